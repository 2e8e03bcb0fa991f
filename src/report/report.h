/* report: report.json (DESIGN.md contract) and the SVG Gantt chart. */
#ifndef SHOTQ_REPORT_H
#define SHOTQ_REPORT_H

#include <stddef.h>

#include "report/record.h"

/* Writes the JSON report atomically (temp name + fsync + rename). Tasks are
 * streamed one object at a time so a million tasks need no big tree.
 * Returns 0 or -errno with one line in err naming the file, the step and the
 * errno text (path unchanged). */
int report_write_json(const char *path, const struct run_record *r, char *err,
                      size_t errlen);

/* Draws one row per device slot with task bars; failed attempts in red,
 * retried tasks outlined; idle time summarised per device. Atomic.
 * Returns 0 or -errno, err set as for report_write_json. */
int report_write_gantt(const char *path, const struct run_record *r, char *err,
                       size_t errlen);

/* Name of a status for reports: "pending", "running", "done", "failed",
 * "done-earlier". */
const char *report_status_name(int status);

#endif
