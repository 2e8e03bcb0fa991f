/* journal: the run's append-only record (RUN_DIR/journal, JSON lines), the
 * ground truth for --resume.
 *
 * Line 1 is a header naming the run's fingerprint (task set + command); then
 * one line per event: {"ev":"start"|"done"|"fail"|"retry", "task", "attempt",
 * "dev", "t", "exit"}. Lines are buffered per event-loop turn; jrnl_flush()
 * writes them with one write() and, when a completion is among them,
 * fdatasync()s: a task recorded "done" survives a crash of the machine.
 * The journal is created with its header complete (see jrnl_open), and all
 * its system calls go through util/sysio.h, where tests inject faults. */
#ifndef SHOTQ_JOURNAL_H
#define SHOTQ_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum jrnl_event { JRNL_START, JRNL_DONE, JRNL_FAIL, JRNL_RETRY };

struct jrnl;

typedef void (*jrnl_done_fn)(void *ctx, int64_t task_id);

/* Opens RUN_DIR/journal. Without resume, creates it (the directory too) and
 * fails with -EEXIST if a journal is already there; the header is written and
 * synced under a temp name and linked into place, so a journal either has a
 * valid header or does not exist. An empty journal is refused on resume. With resume, the journal
 * must exist and carry the same fingerprint (-ESTALE otherwise); on_done is
 * called for every task it records done. On error, err holds one line and
 * nothing on disk is changed. */
int jrnl_open(const char *run_dir, uint64_t fingerprint, const char *what, bool resume,
              jrnl_done_fn on_done, void *ctx, struct jrnl **out, char *err,
              size_t errlen);

typedef void (*jrnl_attempt_fn)(void *ctx, int64_t task_id, int attempt);

/* Replay of attempts, for attempt numbers that continue across resumes:
 * calls on_attempt for every "start", "done", "fail" and "retry" event of
 * RUN_DIR/journal with its task id and attempt (records without a valid
 * attempt, other events, a torn last record are skipped; the header is not
 * checked: call after jrnl_open). Reads through jrnl_read. Returns 0, or
 * -errno (-EINVAL for a corrupt journal, which jrnl_open refuses first). */
int jrnl_attempts(const char *run_dir, jrnl_attempt_fn on_attempt, void *ctx);

/* The journal's header (line 1). */
struct jrnl_header {
    char fingerprint[24]; /* 16 hex digits, "" if missing */
    char what[512];       /* the run's one-line description ("?" if missing) */
};

/* One line of the journal as jrnl_read gives it. */
struct jrnl_entry {
    size_t line;                     /* 1-based line number */
    const struct jrnl_header *header; /* line 1 only, else NULL */
    const char *ev;                  /* "start", "done", "fail", "retry" or a note's
                                        ("quarantine", ...); "" on line 1 */
    int64_t task;                    /* -1 for run events */
    int attempt;                     /* 0 if none */
    long dev;                        /* -1 if none */
    double t;                        /* seconds since its coordinator started */
    int exit_code;                   /* done/fail/retry */
    const char *detail;              /* a note's text, "" otherwise */
};

/* Called for each line; a nonzero return stops the reading and is returned.
 * Pointers in e are valid during the call only. */
typedef int (*jrnl_entry_fn)(void *ctx, const struct jrnl_entry *e);

/* Reads RUN_DIR/journal read-only, for `shotq status`: takes no lock and
 * changes nothing, so it is safe beside a live coordinator appending to it.
 * Calls fn for the header and then every complete event line in order (a torn
 * last line is skipped). Returns 0; -errno with err "PATH: cannot open: ..."
 * (-ENOENT: no journal); -EINVAL with err "PATH:LINE: ..." for a corrupt
 * journal; or fn's nonzero return. */
int jrnl_read(const char *run_dir, jrnl_entry_fn fn, void *ctx, char *err, size_t errlen);

/* Buffers one event. Returns 0 or -ENOMEM. */
int jrnl_record(struct jrnl *j, enum jrnl_event ev, int64_t task, int attempt, long dev,
                double t, int exit_code);

/* Optional fields of an event (backward compatible: replay ignores them). */
struct jrnl_extra {
    uint64_t gpu_mem_peak; /* "gpu_mem_peak": bytes the task used at most on its
                              GPU(s), as sampled; 0 = not measured, left out */
    const long *devs;      /* "devs": every device of a multi-device attempt */
    size_t ndevs;          /* their number; written only when > 1 */
};

/* jrnl_record with the fields of x (NULL: none). Returns 0, -EINVAL (too
 * long) or -ENOMEM. */
int jrnl_record_ext(struct jrnl *j, enum jrnl_event ev, int64_t task, int attempt,
                    long dev, double t, int exit_code, const struct jrnl_extra *x);

/* Buffers one run event that is not a task's (ev: "quarantine", "probe",
 * "recover", "retire", "halt"; dev -1 for the run): {"ev", "dev", "t",
 * "detail"}. Replay ignores it. Returns 0, -EINVAL (too long) or -ENOMEM. */
int jrnl_note(struct jrnl *j, const char *ev, long dev, double t, const char *detail);

/* Writes buffered events; fdatasync()s if a completion was among them.
 * Returns 0 or -errno (the buffer is kept for another try). */
int jrnl_flush(struct jrnl *j);

/* Flushes and closes. Returns the flush result. NULL is ok. */
int jrnl_close(struct jrnl *j);

/* Takes RUN_DIR/lock, an exclusive flock() held as long as *fd stays open
 * (close-on-exec, so tasks do not hold it), and writes "PID HOST" into it.
 * Returns 0; -EBUSY when another process holds it (err names its pid and
 * host); or -errno (err says what failed). Nothing else is changed. */
int jrnl_lock(const char *run_dir, int *fd, char *err, size_t errlen);

/* 64-bit FNV-1a over bytes, chained from h (start with JRNL_FNV_INIT). */
#define JRNL_FNV_INIT 14695981039346656037ull
uint64_t jrnl_hash(uint64_t h, const void *data, size_t len);

#endif
