/* report: report.json writer (see report.h). */
#include "report/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shotq/version.h"
#include "util/atomic_file.h"

const char *report_status_name(int status)
{
    static const char *const names[] = {"pending", "running", "done", "failed",
                                        "done-earlier"};
    return status >= 0 && status <= REC_RESUMED ? names[status] : "?";
}

/* Prints one cJSON value compactly to f and frees it. Returns 0 or -ENOMEM. */
static int emit(FILE *f, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return -ENOMEM;
    fputs(s, f);
    free(s);
    return 0;
}

/* Adds a task id to o as its exact decimal digits: cJSON would print a
 * number with 15 significant digits, which loses large ids. */
static void add_id(cJSON *o, int64_t id)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, id);
    cJSON_AddRawToObject(o, "id", digits);
}

/* An attempt that did not succeed (failed or cancelled) as a JSON object:
 * task id, device, slot, times, exit code, why, attempt and its logs. */
static cJSON *attempt_json(const struct run_record *r, const struct rec_fail *x)
{
    cJSON *o = cJSON_CreateObject();
    add_id(o, r->tasks[x->task].id);
    cJSON_AddNumberToObject(o, "device", x->dev);
    cJSON_AddNumberToObject(o, "slot", x->slot);
    cJSON_AddNumberToObject(o, "start_s", x->start_s);
    cJSON_AddNumberToObject(o, "end_s", x->end_s);
    cJSON_AddNumberToObject(o, "exit_code", x->exit_code);
    cJSON_AddStringToObject(o, "why", x->why);
    cJSON_AddNumberToObject(o, "attempt", x->attempt);
    /* Only logs that exist, relative to the run directory. */
    cJSON *logs = cJSON_AddArrayToObject(o, "logs");
    for (int k = 0; k < 2 && logs; k++) {
        char name[96];
        snprintf(name, sizeof name, "logs/task-%lld.%d.%s", (long long)r->tasks[x->task].id,
                 (int)x->attempt, k ? "err" : "out");
        if (x->logs & (1u << k))
            cJSON_AddItemToArray(logs, cJSON_CreateString(name));
    }
    return o;
}

int report_write_json(const char *path, const struct run_record *r, char *err,
                      size_t errlen)
{
    struct atomic_file a;
    int rc = atomic_open(&a, path, err, errlen);
    if (rc)
        return rc;
    FILE *f = a.f;
    /* Top-level scalars through cJSON, then the arrays streamed. */
    cJSON *head = cJSON_CreateObject();
    cJSON_AddStringToObject(head, "shotq_version", SHOTQ_VERSION_STRING);
    cJSON_AddNumberToObject(head, "makespan_s", r->makespan_s);
    cJSON_AddNumberToObject(head, "lower_bound_s", r->lower_bound_s);
    cJSON_AddStringToObject(head, "lower_bound_from",
                            "measured task costs (duration x learned device speed)");
    cJSON_AddStringToObject(head, "policy", r->policy);
    cJSON_AddStringToObject(head, "run_dir", r->run_dir ? r->run_dir : "");
    size_t counts[5] = {0};
    for (size_t i = 0; i < r->ntasks; i++)
        counts[r->tasks[i].status <= REC_RESUMED ? r->tasks[i].status : 0]++;
    cJSON *summary = cJSON_AddObjectToObject(head, "summary");
    for (int st = 0; st <= REC_RESUMED; st++)
        cJSON_AddNumberToObject(summary, report_status_name(st), (double)counts[st]);
    char *hs = cJSON_PrintUnformatted(head);
    cJSON_Delete(head);
    if (!hs) {
        atomic_close(&a, false, err, errlen);
        snprintf(err, errlen, "%s: cannot format: %s", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    hs[strlen(hs) - 1] = '\0'; /* drop the closing brace: arrays follow */
    fputs(hs, f);
    free(hs);

    fputs(",\"devices\":[", f);
    for (size_t d = 0; d < r->ndevs && !rc; d++) {
        const struct rec_device *v = &r->devs[d];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)d);
        cJSON_AddStringToObject(o, "name", v->name);
        cJSON_AddStringToObject(o, "kind", v->kind);
        cJSON_AddStringToObject(o, "node", v->node);
        cJSON_AddNumberToObject(o, "slots", v->slots);
        cJSON_AddNumberToObject(o, "speed_estimate", v->speed_estimate);
        cJSON_AddNumberToObject(o, "busy_s", v->busy_s);
        cJSON_AddNumberToObject(o, "tasks_done", (double)v->tasks_done);
        cJSON_AddBoolToObject(o, "quarantined", v->quarantined);
        cJSON_AddNumberToObject(o, "quarantines", v->quarantines);
        if (d)
            fputc(',', f);
        rc = emit(f, o);
    }
    fputs("],\"tasks\":[", f);
    for (size_t i = 0; i < r->ntasks && !rc; i++) {
        const struct rec_task *t = &r->tasks[i];
        cJSON *o = cJSON_CreateObject();
        add_id(o, t->id);
        if (t->dev >= 0) {
            cJSON_AddNumberToObject(o, "device", t->dev);
            cJSON *dv = cJSON_AddArrayToObject(o, "devices");
            for (uint16_t k = 0; dv && k < (t->ndevs > 1 ? t->ndevs : 1); k++)
                cJSON_AddItemToArray(
                    dv, cJSON_CreateNumber(t->ndevs > 1 ? r->devpool[t->devs_off + k]
                                                        : t->dev));
            cJSON_AddNumberToObject(o, "slot", t->slot);
            cJSON_AddNumberToObject(o, "start_s", t->start_s);
            cJSON_AddNumberToObject(o, "end_s", t->end_s);
        } else {
            cJSON_AddNullToObject(o, "device");
            cJSON_AddNullToObject(o, "slot");
            cJSON_AddNullToObject(o, "start_s");
            cJSON_AddNullToObject(o, "end_s");
        }
        if (t->cost > 0)
            cJSON_AddNumberToObject(o, "cost", t->cost);
        if (t->gpu_mem_peak)
            cJSON_AddNumberToObject(o, "gpu_mem_peak_mib",
                                    (double)(t->gpu_mem_peak >> 20));
        cJSON_AddNumberToObject(o, "attempts", t->attempts);
        cJSON_AddStringToObject(o, "status", report_status_name(t->status));
        if (t->status == REC_DONE || t->status == REC_FAILED)
            cJSON_AddNumberToObject(o, "exit_code", t->exit_code);
        else
            cJSON_AddNullToObject(o, "exit_code");
        if (i)
            fputc(',', f);
        rc = emit(f, o);
    }
    fputs("],\"failed_attempts\":[", f);
    for (size_t k = 0; k < r->nfails && !rc; k++) {
        if (k)
            fputc(',', f);
        rc = emit(f, attempt_json(r, &r->fails[k]));
    }
    fputs("],\"cancelled_attempts\":[", f);
    for (size_t k = 0; k < r->ncancels && !rc; k++) {
        if (k)
            fputc(',', f);
        rc = emit(f, attempt_json(r, &r->cancels[k]));
    }
    fputs("],\"events\":[", f);
    for (size_t k = 0; k < r->nevents && !rc; k++) {
        const struct rec_event *x = &r->events[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t", x->t);
        if (x->dev >= 0)
            cJSON_AddNumberToObject(o, "device", x->dev);
        else
            cJSON_AddNullToObject(o, "device");
        cJSON_AddStringToObject(o, "event", x->what);
        cJSON_AddStringToObject(o, "detail", x->detail);
        if (k)
            fputc(',', f);
        rc = emit(f, o);
    }
    fputs("],\"eta\":[", f);
    for (size_t k = 0; k < r->netas && !rc; k++) {
        const struct rec_eta *x = &r->etas[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t", x->t);
        if (x->eta_s >= 0) {
            cJSON_AddNumberToObject(o, "eta_s", x->eta_s);
            /* What was really left, and the estimate's error as a ratio. */
            double left = r->makespan_s - x->t;
            cJSON_AddNumberToObject(o, "actual_s", left > 0 ? left : 0);
            if (left > 0)
                cJSON_AddNumberToObject(o, "ratio", x->eta_s / left);
            else
                cJSON_AddNullToObject(o, "ratio");
        } else {
            cJSON_AddNullToObject(o, "eta_s");
            cJSON_AddNumberToObject(o, "actual_s", r->makespan_s > x->t ? r->makespan_s - x->t : 0);
            cJSON_AddNullToObject(o, "ratio");
        }
        cJSON_AddStringToObject(o, "basis", x->basis);
        if (k)
            fputc(',', f);
        rc = emit(f, o);
    }
    fputs("]}\n", f);
    int rc2 = atomic_close(&a, rc == 0, err, errlen);
    if (rc)
        snprintf(err, errlen, "%s: cannot format: %s", path, strerror(-rc));
    return rc ? rc : rc2;
}
