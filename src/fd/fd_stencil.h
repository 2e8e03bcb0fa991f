/* fd_stencil: the 8th-order finite-difference weights shared by every back end
 * (see shared/reference/README.md). Unscaled: divide by d (1st derivative) or
 * d^2 (2nd derivative) of the axis they act on. */
#ifndef FD_STENCIL_H
#define FD_STENCIL_H

/* Second derivative, centred: f'' ~ (C0 f0 + sum_k C2_k (f_k + f_-k)) / d^2. */
#define FD_C2_0 (-205.0 / 72.0)
#define FD_C2_1 (8.0 / 5.0)
#define FD_C2_2 (-1.0 / 5.0)
#define FD_C2_3 (8.0 / 315.0)
#define FD_C2_4 (-1.0 / 560.0)

/* First derivative, centred: f' ~ sum_k C1_k (f_k - f_-k) / d. */
#define FD_C1_1 (4.0 / 5.0)
#define FD_C1_2 (-1.0 / 5.0)
#define FD_C1_3 (4.0 / 105.0)
#define FD_C1_4 (-1.0 / 280.0)

/* First derivative, staggered: f'(i + 1/2) ~ sum_k CS_k (f_{i+k} - f_{i+1-k}) / d. */
#define FD_CS_1 1.196289
#define FD_CS_2 (-0.0797526)
#define FD_CS_3 0.009570313
#define FD_CS_4 (-0.0006975447)

/* Stability: the largest |symbol| of the 2nd-derivative stencil (times 1/d^2)
 * is sum |C2| = 6.5016..; of the staggered one (times 1/d) 2 sum |CS|. */
#define FD_C2_ABSSUM                                                                     \
    (205.0 / 72.0 + 2.0 * (8.0 / 5.0 + 1.0 / 5.0 + 8.0 / 315.0 + 1.0 / 560.0))
#define FD_CS_ABSSUM (1.196289 + 0.0797526 + 0.009570313 + 0.0006975447)

#endif /* FD_STENCIL_H */
