/* journal: the run's append-only record (RUN_DIR/journal, JSON lines), the
 * ground truth for --resume.
 *
 * Line 1 is a header naming the run's fingerprint (task set + command) and,
 * since journal version 2, the command's own fingerprint ("command"); then
 * one "def" line per task, {"ev":"def","task","args"}: the task's identity,
 * which lets a later --resume add tasks and refuse changed ones. Then one
 * line per event: {"ev":"start"|"done"|"fail"|"retry"|"cancel", "task", "attempt",
 * "dev", "t", "exit"}; a "done" also carries the task's "cost" (duration x
 * learned device speed, what --costs-from reads when a run left no report)
 * and, when measured, "gpu_mem_peak" and "devs". A resume that adds tasks, or --retry-failed with a new
 * command, appends their "def" lines and then one "epoch" line,
 * {"ev":"epoch","dev":-1,"t":0,"detail","fingerprint","command","what"}: the
 * fingerprint and command in force from there on. Lines are buffered per event-loop turn; jrnl_flush()
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

/* A task attempt's events. "cancel": a speculative copy was killed because
 * the task's other attempt finished first (its output is discarded). */
enum jrnl_event { JRNL_START, JRNL_DONE, JRNL_FAIL, JRNL_RETRY, JRNL_CANCEL };

struct jrnl;

typedef void (*jrnl_done_fn)(void *ctx, int64_t task_id);

/* How a run uses its run directory. */
enum jrnl_mode {
    JRNL_NEW = 0,         /* a new run: the journal must not exist */
    JRNL_RESUME = 1,      /* continue it; the task set may grow, nothing may change */
    JRNL_RETRY_FAILED = 2 /* run what is not done again, the command may change */
};

struct taskset;

/* What a run is, as its journal records it. */
struct jrnl_run {
    uint64_t fingerprint;         /* command + whole task set (the header's) */
    uint64_t command;             /* the command, or plugin + config, alone */
    const char *what;             /* one line for the header and epochs */
    const struct taskset *tasks;  /* ids checked unique (tasks_check_unique) */
};

/* Opens RUN_DIR/journal for a run with per-task records (version 2).
 * JRNL_NEW: as jrnl_open without resume, and the journal is created with a
 * "def" line per task after its header. JRNL_RESUME: the journal's tasks must
 * all be in run->tasks with the same arguments, and its command must be
 * run->command; tasks it does not know are added ("def" lines and an
 * "epoch" line, synced, before this returns). JRNL_RETRY_FAILED: the same
 * tasks exactly (none added), the command may differ (then an "epoch" line
 * records the new one). A journal of an older shotq (no "command" in its
 * header) resumes only with the same fingerprint, as with jrnl_open; it is
 * refused for JRNL_RETRY_FAILED. on_done is called for every task recorded
 * done. Returns 0; -ESTALE (a task set or command that does not match: err
 * names the first task and what differs, with its tasks-file line when
 * known); or as jrnl_open. On a refusal nothing on disk is changed. */
int jrnl_open_run(const char *run_dir, const struct jrnl_run *run, enum jrnl_mode mode,
                  jrnl_done_fn on_done, void *ctx, struct jrnl **out, char *err,
                  size_t errlen);

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
 * calls on_attempt for every "start", "done", "fail", "retry" and "cancel" event of
 * RUN_DIR/journal with its task id and attempt (records without a valid
 * attempt, other events, a torn last record are skipped; the header is not
 * checked: call after jrnl_open). Reads through jrnl_read. Returns 0, or
 * -errno (-EINVAL for a corrupt journal, which jrnl_open refuses first). */
int jrnl_attempts(const char *run_dir, jrnl_attempt_fn on_attempt, void *ctx);

/* The journal's header (line 1). */
struct jrnl_header {
    char fingerprint[24]; /* 16 hex digits, "" if missing */
    char command[24];     /* the command's fingerprint, "" before version 2 */
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
    int exit_code;                   /* done/fail/retry/cancel */
    const char *detail;              /* a note's text, "" otherwise */
    const char *args;                /* "def": the task's arguments, else "" */
    const char *command;             /* "epoch": the new command fingerprint, else "" */
    const char *what;                /* "epoch": the run's new description, else "" */
    double cost;                     /* "done": the task's cost (weight units), 0 if none */
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
    double cost;           /* "cost": the task's cost in device-independent units
                              (duration x learned device speed); 0 = left out */
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
