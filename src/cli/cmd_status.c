/* `shotq status [RUN_DIR] [--json] [--watch [SEC]]`: a run's progress from
 * its directory, live or not (report/status.h does the reading). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "report/status.h"

static void status_usage(FILE *f)
{
    fputs("usage: shotq status [RUN_DIR] [--json] [--watch [SEC]]\n"
          "Shows a run's progress from RUN_DIR (default ./shotq-run): done / failed /\n"
          "running / pending counts, per device its current tasks, learned speed,\n"
          "utilisation and quarantine state, the ETA, the failed tasks with the last\n"
          "line of their stderr and their logs, and the device events. Works on a live\n"
          "run (another terminal or node), a finished one and one whose coordinator was\n"
          "killed; it never changes the run directory.\n"
          "  --json         one JSON object (fields: docs/design.md, \"shotq status\")\n"
          "  --watch [SEC]  redraw every SEC seconds (default 2) until the run ends or\n"
          "                 Ctrl-C\n",
          f);
}

static volatile sig_atomic_t g_stop; /* SIGINT/SIGTERM during --watch */

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Unix time now. */
static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Options of the command. */
struct status_opts {
    const char *dir;
    bool json;
    double watch; /* seconds, 0 = once */
};

/* Parses argv into o. Returns 0, 1 after --help, or 2 with one line on
 * stderr naming the bad argument. */
static int parse(int argc, char **argv, struct status_opts *o)
{
    *o = (struct status_opts){"shotq-run", false, 0};
    bool have_dir = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            status_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--watch") || !strncmp(a, "--watch=", 8)) {
            const char *v = a[7] == '=' ? a + 8 : NULL;
            o->watch = 2;
            if (!v && i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
                v = argv[++i];
            char *end;
            if (v && (o->watch = strtod(v, &end),
                      end == v || *end || !(o->watch >= 0.1) || o->watch > 3600)) {
                fprintf(stderr,
                        "shotq status: --watch '%s': expected seconds from 0.1 to 3600\n",
                        v);
                return 2;
            }
        } else if (a[0] == '-' || have_dir) {
            fprintf(stderr,
                    "shotq status: unknown argument '%s' (expected RUN_DIR, --json, "
                    "--watch [SEC] or --help)\n",
                    a);
            return 2;
        } else {
            o->dir = a;
            have_dir = true;
        }
    }
    return 0;
}

/* Collects and prints the status once (clearing a terminal first when
 * clear). Returns 0 and the coordinator's state in *coord, or 2 (the one
 * line printed). */
static int show(const struct status_opts *o, bool clear, enum status_coord *coord)
{
    struct status_report r;
    char err[1024];
    int rc = status_collect(o->dir, &r, err, sizeof err);
    if (rc) {
        fprintf(stderr, "shotq status: %s\n", err);
        return 2;
    }
    double now = wall_now();
    char *text = o->json ? status_json(o->dir, &r, now) : status_text(o->dir, &r, now);
    *coord = r.coord;
    status_free(&r);
    if (!text) {
        fputs("shotq status: out of memory\n", stderr);
        return 2;
    }
    if (clear)
        fputs("\033[H\033[J", stdout);
    fputs(text, stdout);
    fflush(stdout);
    free(text);
    return 0;
}

int cmd_status(int argc, char **argv)
{
    struct status_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    enum status_coord coord;
    if ((rc = show(&o, false, &coord)) || o.watch <= 0)
        return rc;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool tty = !o.json && isatty(1);
    while (coord == STATUS_LIVE && !g_stop) {
        struct timespec ts = {(time_t)o.watch,
                              (long)((o.watch - (double)(time_t)o.watch) * 1e9)};
        nanosleep(&ts, NULL); /* a signal ends it early */
        if (g_stop)
            break;
        if (!tty)
            fputs(o.json ? "" : "\n", stdout);
        if ((rc = show(&o, tty, &coord)))
            return rc;
    }
    return 0;
}
