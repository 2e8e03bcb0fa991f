/* Unit tests of src/devices: the SPEC grammar, sim and cpu back ends, the
 * nvidia-smi parsers on recorded outputs (tests/data/nvsmi), CUDA_VISIBLE_DEVICES
 * and the fallback from a missing NVML to a fake nvidia-smi script. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/devices.h"
#include "devices/devices_int.h"

#define DATA SHOTQ_TEST_DATA "/nvsmi/"
#define MIB(x) ((uint64_t)(x) << 20)

static const char *const uuid_mixed[4] = {"GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10",
                                          "GPU-8e3f2c1a-4b7d-4e9a-a2c5-6f1d9b3e8a21",
                                          "GPU-1c7e9a4f-2d8b-4f3c-b6e1-9a5d2c7f4e32",
                                          "GPU-a4d2b8e6-9f1c-4a7e-8d3b-5c9e1f7a2d43"};

/* Reads a recording into a malloc'ed string (the test fails if it cannot). */
static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Parses a recorded --query-gpu CSV into *l (the test fails on error). */
static void parse_csv_recording(const char *name, struct dev_list *l)
{
    char *text = slurp(name);
    char err[256];
    assert_int_equal(dev_nvsmi_parse_csv(text, l, err, sizeof err), 0);
    free(text);
}

/* Makes discovery deterministic: no NVML, the fake nvidia-smi answering from
 * the recording set name, no CUDA_VISIBLE_DEVICES or SHOTQ_DEVICES. */
static int setup_fake_gpus(void **state)
{
    (void)state;
    setenv("SHOTQ_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    setenv("SHOTQ_NVIDIA_SMI", DATA "fake-nvidia-smi", 1);
    setenv("FAKE_NVSMI", "mixed-node", 1);
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("SHOTQ_DEVICES");
    return 0;
}

static int teardown_env(void **state)
{
    (void)state;
    dev_shutdown();
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("SHOTQ_DEVICES");
    setenv("FAKE_NVSMI", "mixed-node", 1);
    return 0;
}

/* ---- sim ---- */

static void test_sim_expansion(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    assert_int_equal(
        dev_discover("sim:1080Ti:1.0:11264x2,780Ti:0.4:3072x2", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4);
    char host[256] = "";
    gethostname(host, sizeof host);
    const char *names[] = {"1080Ti", "1080Ti", "780Ti", "780Ti"};
    const int ords[] = {0, 1, 0, 1};
    const uint64_t mem[] = {MIB(11264), MIB(11264), MIB(3072), MIB(3072)};
    const double speed[] = {1.0, 1.0, 0.4, 0.4};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].name, names[i]);
        assert_int_equal(l.v[i].ordinal, ords[i]);
        assert_int_equal(l.v[i].kind, DEV_SIM);
        assert_int_equal(l.v[i].mem_total, mem[i]);
        assert_int_equal(l.v[i].mem_free, mem[i]);
        assert_true(l.v[i].speed == speed[i]);
        assert_string_equal(l.v[i].source, "sim");
        assert_string_equal(l.v[i].uuid, "");
        assert_string_equal(l.v[i].node, host);
        assert_int_equal(l.v[i].util_pct, 0);
        assert_int_equal(l.v[i].nprocs, 0);
    }
    /* refresh leaves simulated devices alone */
    assert_int_equal(dev_refresh(&l), 0);
    assert_int_equal(l.v[2].mem_free, MIB(3072));
    dev_list_free(&l);
    assert_null(l.v);
    assert_int_equal(l.n, 0);
}

static void test_sim_defaults_and_ordinals(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    assert_int_equal(dev_discover("sim:a:2,b.c-d_e:1e-1x3,a:.5:1x2", &l, err, sizeof err),
                     0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.v[0].name, "a");
    assert_int_equal(l.v[0].mem_total, MIB(16384));
    assert_true(l.v[0].speed == 2.0);
    assert_string_equal(l.v[1].name, "b.c-d_e");
    assert_true(l.v[1].speed == 0.1);
    assert_int_equal(l.v[3].ordinal, 2);
    /* a repeated name continues the ordinals of the earlier entry */
    assert_string_equal(l.v[4].name, "a");
    assert_int_equal(l.v[4].ordinal, 1);
    assert_int_equal(l.v[5].ordinal, 2);
    assert_int_equal(l.v[5].mem_total, MIB(1));
    assert_true(l.v[5].speed == 0.5);
    dev_list_free(&l);
}

/* ---- grammar errors ---- */

struct bad_spec {
    const char *spec;
    const char *msg;
};

static const struct bad_spec bad_specs[] = {
    {"sim:a:x",
     "--devices 'sim:a:x': position 7: expected a speed (positive number), got 'x'"},
    {"sim",
     "--devices 'sim': position 4: expected ':' and simulated devices, got end of spec"},
    {"sim:",
     "--devices 'sim:': position 5: expected a device name ([A-Za-z0-9_.-]), got end "
     "of spec"},
    {"sim::1",
     "--devices 'sim::1': position 5: expected a device name ([A-Za-z0-9_.-]), got "
     "':'"},
    {"sim:a",
     "--devices 'sim:a': position 6: expected ':' and a speed after the device name, "
     "got end of spec"},
    {"sim:a b:1", "--devices 'sim:a b:1': position 6: expected ':' and a speed after the "
                  "device name, got ' b'"},
    {"sim:a:0",
     "--devices 'sim:a:0': position 7: expected a speed (positive number), got '0'"},
    {"sim:a:-1",
     "--devices 'sim:a:-1': position 7: expected a speed (positive number), got "
     "'-1'"},
    {"sim:a:inf",
     "--devices 'sim:a:inf': position 7: expected a speed (positive number), got "
     "'inf'"},
    {"sim:a:1e999",
     "--devices 'sim:a:1e999': position 7: expected a speed (positive number), "
     "got '1e999'"},
    {"sim:a:0x2",
     "--devices 'sim:a:0x2': position 7: expected a speed (positive number), got "
     "'0x2'"},
    {"sim:a:1:0",
     "--devices 'sim:a:1:0': position 9: expected a memory size in MiB (positive "
     "integer), got '0'"},
    {"sim:a:1:99999999999999999999",
     "--devices 'sim:a:1:99999999999999999999': position 9: "
     "expected a memory size in MiB (positive integer), got "
     "'99999999999999999999'"},
    {"sim:a:1:12x",
     "--devices 'sim:a:1:12x': position 12: expected a device count (1..1000000), "
     "got end of spec"},
    {"sim:a:1x0",
     "--devices 'sim:a:1x0': position 9: expected a device count (1..1000000), got "
     "'0'"},
    {"sim:a:1x2000000", "--devices 'sim:a:1x2000000': position 9: expected a device "
                        "count (1..1000000), got '2000000'"},
    {"sim:a:1,",
     "--devices 'sim:a:1,': position 9: expected a device name ([A-Za-z0-9_.-]), "
     "got end of spec"},
    {"sim:a:1.0.5",
     "--devices 'sim:a:1.0.5': position 10: expected ':MEM_MIB', 'xCOUNT', ',' "
     "or end of spec, got '.5'"},
    {"sim:a:1:64:2",
     "--devices 'sim:a:1:64:2': position 11: expected 'xCOUNT', ',' or end of "
     "spec, got ':'"},
    {"sim:a:1x2x3",
     "--devices 'sim:a:1x2x3': position 10: expected ',' or end of spec, got "
     "'x3'"},
    {"cpu:",
     "--devices 'cpu:': position 5: expected a CPU device count (1..4096), got end of "
     "spec"},
    {"cpu:0",
     "--devices 'cpu:0': position 5: expected a CPU device count (1..4096), got '0'"},
    {"cpu:2x",
     "--devices 'cpu:2x': position 6: expected end of spec after cpu:N, got 'x'"},
    {"gpu",
     "--devices 'gpu': position 1: expected auto, cpu[:N], "
     "sim:NAME:SPEED[:MEM_MIB][xCOUNT], a GPU index or a GPU UUID (GPU-...), got 'gpu'"},
    {"0,,1",
     "--devices '0,,1': position 3: expected a GPU index or a GPU UUID (GPU-...), got "
     "','"},
    {"0,GPU-zz", "--devices '0,GPU-zz': position 3: expected a GPU index or a GPU UUID "
                 "(GPU-...), got 'GPU-zz'"},
    {"1,",
     "--devices '1,': position 3: expected a GPU index or a GPU UUID (GPU-...), got end "
     "of spec"},
};

static void test_bad_specs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
        struct dev_list l = {(struct dev_info *)&l, 99}; /* must be reset */
        char err[512] = "";
        int rc = dev_discover(bad_specs[i].spec, &l, err, sizeof err);
        if (rc != -EINVAL || strcmp(err, bad_specs[i].msg) != 0)
            fail_msg("spec '%s': rc %d, message\n  got:  %s\n  want: %s",
                     bad_specs[i].spec, rc, err, bad_specs[i].msg);
        assert_null(l.v);
        assert_int_equal(l.n, 0);
    }
}

static void test_name_too_long(void **state)
{
    (void)state;
    char spec[160] = "sim:";
    memset(spec + 4, 'n', 96);
    strcpy(spec + 100, ":1");
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover(spec, &l, err, sizeof err), -EINVAL);
    assert_non_null(
        strstr(err, "position 5: expected a device name of at most 95 characters"));
    spec[99] = ':';
    spec[100] = '1';
    spec[101] = '\0'; /* 95 characters fit */
    assert_int_equal(dev_discover(spec, &l, err, sizeof err), 0);
    assert_int_equal(strlen(l.v[0].name), 95);
    dev_list_free(&l);
}

static void test_env_default_spec(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    setenv("SHOTQ_DEVICES", "sim:z:3x2", 1);
    assert_int_equal(dev_discover(NULL, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[1].name, "z");
    dev_list_free(&l);
    assert_int_equal(dev_discover("", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    dev_list_free(&l);
    /* an explicit spec wins */
    assert_int_equal(dev_discover("cpu", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].kind, DEV_CPU);
    dev_list_free(&l);
    setenv("SHOTQ_DEVICES", "sim:a:x", 1);
    assert_int_equal(dev_discover(NULL, &l, err, sizeof err), -EINVAL);
    assert_string_equal(err, "SHOTQ_DEVICES 'sim:a:x': position 7: expected a speed "
                             "(positive number), got 'x'");
}

/* ---- cpu ---- */

static void test_cpu_devices(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t host = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    assert_int_equal(dev_discover("cpu:2", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(l.v[i].name, "cpu");
        assert_int_equal(l.v[i].kind, DEV_CPU);
        assert_int_equal(l.v[i].ordinal, i);
        assert_int_equal(l.v[i].ncpus, cores / 2 >= 1 ? cores / 2 : 1);
        assert_int_equal(l.v[i].mem_total, host / 2);
        assert_true(l.v[i].speed == 1.0);
        assert_string_equal(l.v[i].source, "cpu");
        assert_string_equal(l.v[i].uuid, "");
    }
    dev_list_free(&l);
    assert_int_equal(dev_discover("cpu", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].ncpus, cores);
    assert_int_equal(l.v[0].mem_total, host);
    dev_list_free(&l);
    /* more devices than cores: each still gets one */
    assert_int_equal(dev_discover("cpu:4096", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4096);
    assert_int_equal(l.v[4095].ncpus, cores >= 4096 ? cores / 4096 : 1);
    dev_list_free(&l);
}

static void test_kind_names_and_speed_prior(void **state)
{
    (void)state;
    assert_string_equal(dev_kind_name(DEV_CPU), "cpu");
    assert_string_equal(dev_kind_name(DEV_GPU), "gpu");
    assert_string_equal(dev_kind_name(DEV_SIM), "sim");
    /* 1080 Ti: 352 bit, 5505 MHz -> 484.44 GB/s */
    assert_true(fabs(dev_gpu_speed_prior(352, 5505) - 484.44 / 484.0) < 1e-12);
    /* 780 Ti: 384 bit, 3500 MHz -> 336 GB/s */
    assert_true(fabs(dev_gpu_speed_prior(384, 3500) - 336.0 / 484.0) < 1e-12);
    assert_true(dev_gpu_speed_prior(0, 5505) == 1.0);
    assert_true(dev_gpu_speed_prior(352, 0) == 1.0);
}

/* ---- nvidia-smi parsers ---- */

static void test_csv_mixed_node(void **state)
{
    (void)state;
    struct dev_list l;
    parse_csv_recording("mixed-node.csv", &l);
    assert_int_equal(l.n, 4);
    const char *bus[] = {"00000000:02:00.0", "00000000:03:00.0", "00000000:82:00.0",
                         "00000000:83:00.0"};
    const uint64_t total[] = {MIB(11264), MIB(11264), MIB(3072), MIB(3072)};
    const uint64_t free_[] = {MIB(11098), MIB(2154), MIB(3009), MIB(3009)};
    const int util[] = {0, 97, 0, 0};
    const int clk[] = {5505, 5505, 3500, 3500};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].name, i < 2 ? "NVIDIA GeForce GTX 1080 Ti"
                                               : "NVIDIA GeForce GTX 780 Ti");
        assert_string_equal(l.v[i].uuid, uuid_mixed[i]);
        assert_string_equal(l.v[i].pci_bus_id, bus[i]);
        assert_int_equal(l.v[i].ordinal, i);
        assert_int_equal(l.v[i].kind, DEV_GPU);
        assert_int_equal(l.v[i].mem_total, total[i]);
        assert_int_equal(l.v[i].mem_free, free_[i]);
        assert_int_equal(l.v[i].util_pct, util[i]);
        assert_int_equal(l.v[i].mem_clock_mhz, clk[i]);
        assert_int_equal(l.v[i].nprocs, -1);
        assert_true(l.v[i].speed == 1.0); /* no bus width from nvidia-smi */
        assert_string_equal(l.v[i].source, "nvidia-smi");
    }
    dev_list_free(&l);
}

static void test_csv_na_fields(void **state)
{
    (void)state;
    struct dev_list l;
    parse_csv_recording("na-fields.csv", &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].util_pct, -1);
    assert_int_equal(l.v[0].mem_clock_mhz, 0);
    assert_int_equal(l.v[0].mem_free, MIB(3009));
    assert_string_equal(l.v[1].name, "NVIDIA GeForce GTX 1080 Ti");
    assert_string_equal(l.v[1].uuid, "");
    assert_string_equal(l.v[1].pci_bus_id, "");
    assert_int_equal(l.v[1].mem_total, MIB(11264));
    assert_int_equal(l.v[1].mem_free, 0);
    dev_list_free(&l);
}

static void test_csv_malformed(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    char *text = slurp("malformed-fields.csv");
    assert_int_equal(dev_nvsmi_parse_csv(text, &l, err, sizeof err), -EINVAL);
    free(text);
    assert_string_equal(err, "line 3: expected 8 comma-separated fields, got 5");
    assert_null(l.v);
    assert_int_equal(l.n, 0);
    text = slurp("malformed-number.csv");
    assert_int_equal(dev_nvsmi_parse_csv(text, &l, err, sizeof err), -EINVAL);
    free(text);
    assert_string_equal(err,
                        "line 2: field 6 (memory.free): expected a number or [N/A], got "
                        "'lots'");
    assert_null(l.v);
    assert_int_equal(dev_nvsmi_parse_csv("x, a, b, c, 1, 1, 1, 1\n", &l, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err,
                        "line 1: field 1 (index): expected a number or [N/A], got 'x'");
    assert_int_equal(
        dev_nvsmi_parse_csv("[N/A], a, b, c, 1, 1, 1, 1\n", &l, err, sizeof err),
        -EINVAL);
    assert_string_equal(err,
                        "line 1: field 1 (index): expected a GPU index, got '[N/A]'");
    assert_int_equal(
        dev_nvsmi_parse_csv("0, , b, c, 1, 1, 1, 1, 9\n", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err, "line 1: expected 8 comma-separated fields, got 9");
    /* empty output: no GPUs, no error; units tolerated when nounits is missing */
    assert_int_equal(dev_nvsmi_parse_csv("\n\n", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(dev_nvsmi_parse_csv("0, G, GPU-1, b, 8 MiB, 4 MiB, 5 %, 7 MHz\r\n",
                                         &l, err, sizeof err),
                     0);
    assert_int_equal(l.v[0].mem_total, MIB(8));
    assert_int_equal(l.v[0].util_pct, 5);
    assert_int_equal(l.v[0].mem_clock_mhz, 7);
    dev_list_free(&l);
}

static void test_query_memory_reserved(void **state)
{
    (void)state;
    char *text = slurp("reserved-q-memory.txt");
    struct dev_list l;
    char err[256];
    assert_int_equal(dev_nvsmi_parse_query_memory(text, &l, err, sizeof err), 0);
    free(text);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].pci_bus_id, "00000000:02:00.0");
    assert_int_equal(l.v[0].mem_total, MIB(11264));
    assert_int_equal(l.v[0].mem_reserved, MIB(244));
    assert_int_equal(l.v[0].mem_free, MIB(11018));
    assert_string_equal(l.v[1].pci_bus_id, "00000000:03:00.0");
    assert_int_equal(l.v[1].ordinal, 1);
    assert_int_equal(l.v[1].mem_total, MIB(11264));
    assert_int_equal(l.v[1].mem_reserved, MIB(244));
    assert_int_equal(l.v[1].mem_free, MIB(2284)); /* not BAR1's 252 or Conf Compute's 0 */
    dev_list_free(&l);
}

static void test_query_memory_no_reserved(void **state)
{
    (void)state;
    char *text = slurp("mixed-node-q-memory.txt");
    struct dev_list l;
    char err[256];
    assert_int_equal(dev_nvsmi_parse_query_memory(text, &l, err, sizeof err), 0);
    free(text);
    assert_int_equal(l.n, 4);
    const uint64_t total[] = {MIB(11264), MIB(11264), MIB(3072), MIB(3072)};
    const uint64_t free_[] = {MIB(11098), MIB(2154), MIB(3009), MIB(3009)};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(l.v[i].mem_total, total[i]);
        assert_int_equal(l.v[i].mem_free, free_[i]);
        assert_int_equal(l.v[i].mem_reserved, 0);
    }
    assert_string_equal(l.v[3].pci_bus_id, "00000000:83:00.0");
    dev_list_free(&l);
}

static void test_query_memory_malformed(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    assert_int_equal(dev_nvsmi_parse_query_memory("Attached GPUs : 1\n"
                                                  "GPU 00000000:02:00.0\n"
                                                  "    FB Memory Usage\n"
                                                  "        Total : lots MiB\n",
                                                  &l, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 4: Total: expected a number of MiB, got 'lots MiB'");
    assert_null(l.v);
    assert_int_equal(dev_nvsmi_parse_query_memory("    FB Memory Usage\n"
                                                  "        Total : 1 MiB\n",
                                                  &l, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 1: 'FB Memory Usage' before any GPU line");
    /* a nested FB block (a MIG instance) does not replace the GPU's figures */
    assert_int_equal(dev_nvsmi_parse_query_memory("GPU 00000000:02:00.0\n"
                                                  "    FB Memory Usage\n"
                                                  "        Total : 40960 MiB\n"
                                                  "        Free : 40000 MiB\n"
                                                  "    MIG Devices\n"
                                                  "        Device 0\n"
                                                  "            FB Memory Usage\n"
                                                  "                Total : 9856 MiB\n"
                                                  "                Free : 9800 MiB\n",
                                                  &l, err, sizeof err),
                     0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].mem_total, MIB(40960));
    assert_int_equal(l.v[0].mem_free, MIB(40000));
    dev_list_free(&l);
    /* N/A values stay unknown */
    assert_int_equal(dev_nvsmi_parse_query_memory("GPU 0\n    FB Memory Usage\n"
                                                  "        Total : N/A\n"
                                                  "        Free : 5 MiB\n",
                                                  &l, err, sizeof err),
                     0);
    assert_int_equal(l.v[0].mem_total, 0);
    assert_int_equal(l.v[0].mem_free, MIB(5));
    dev_list_free(&l);
}

static void test_apps_parser(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    parse_csv_recording("mixed-node.csv", &l);
    char *text = slurp("mixed-node-apps.csv");
    assert_int_equal(dev_nvsmi_parse_apps(text, &l, err, sizeof err), 0);
    free(text);
    assert_int_equal(l.v[0].nprocs, 0);
    assert_int_equal(l.v[1].nprocs, 1);
    assert_int_equal(l.v[2].nprocs, 0);
    assert_int_equal(dev_nvsmi_parse_apps("no processes\n", &l, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, "line 1: expected 'GPU-UUID, PID', got 'no processes'");
    assert_int_equal(l.v[1].nprocs, 1); /* unchanged on error */
    dev_list_free(&l);
}

static void test_procs_parser(void **state)
{
    (void)state;
    struct dev_list l;
    char err[256];
    parse_csv_recording("mixed-node.csv", &l);
    const char *uuid1 = "GPU-8e3f2c1a-4b7d-4e9a-a2c5-6f1d9b3e8a21";
    char text[512];
    snprintf(text, sizeof text,
             "%s, 48213, 9000\n\nGPU-00000000-unknown, 7, 5\n%s, 512, [N/A]\n%s, 9\n",
             uuid1, uuid1, l.v[0].uuid);
    struct dev_proc p[4];
    assert_int_equal(dev_nvsmi_parse_procs(text, &l, p, 4, err, sizeof err), 3);
    assert_int_equal(p[0].dev, 1);
    assert_int_equal(p[0].pid, 48213);
    assert_true(p[0].mem == 9000ull << 20);
    assert_int_equal(p[1].pid, 512);
    assert_true(p[1].mem == DEV_MEM_UNKNOWN);
    assert_int_equal(p[2].dev, 0); /* two fields (older recordings): unknown */
    assert_true(p[2].mem == DEV_MEM_UNKNOWN);
    /* Room for one: the count says how many there were. */
    assert_int_equal(dev_nvsmi_parse_procs(text, &l, p, 1, err, sizeof err), 3);
    assert_int_equal(p[0].pid, 48213);
    assert_int_equal(dev_nvsmi_parse_procs("GPU-x, abc, 1\n", &l, p, 4, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err,
                        "line 1: expected 'GPU-UUID, PID, MiB', got 'GPU-x, abc, 1'");
    dev_list_free(&l);
}

/* ---- CUDA_VISIBLE_DEVICES ---- */

/* Parses the mixed-node recording, filters it by cvd and checks that the
 * ordinals left are want[0..nwant). */
static void check_visible(const char *cvd, const int *want, size_t nwant)
{
    struct dev_list l;
    parse_csv_recording("mixed-node.csv", &l);
    /* make GPUs 0 and 1 share a UUID prefix for the ambiguity case */
    strcpy(l.v[1].uuid, "GPU-5b9a1d3e-0000-4a8e-9f1b-2d6c8e4a7b10");
    assert_int_equal(dev_filter_visible(&l, cvd), 0);
    if (l.n != nwant)
        fail_msg("CUDA_VISIBLE_DEVICES='%s': %zu GPUs, want %zu", cvd ? cvd : "(unset)",
                 l.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_int_equal(l.v[i].ordinal, want[i]);
    dev_list_free(&l);
}

static void test_visible_filter(void **state)
{
    (void)state;
    check_visible(NULL, (int[]){0, 1, 2, 3}, 4);
    check_visible("", NULL, 0);
    check_visible("-1", NULL, 0);
    check_visible("-1,0", NULL, 0);
    check_visible("2,0", (int[]){2, 0}, 2);
    check_visible(" 3 , 1 ", (int[]){3, 1}, 2);
    check_visible("1,-1,3", (int[]){1}, 1);       /* CUDA stops at the invalid entry */
    check_visible("0,7,1", (int[]){0}, 1);        /* ... and at an unknown index */
    check_visible("0,0,1", (int[]){0}, 1);        /* ... and at a repeated one */
    check_visible("GPU-1c7e9a4f", (int[]){2}, 1); /* unique UUID prefix */
    check_visible("GPU-a4d2b8e6-9f1c-4a7e-8d3b-5c9e1f7a2d43,0", (int[]){3, 0}, 2);
    check_visible("GPU-5b9a1d3e", NULL, 0); /* ambiguous prefix */
    check_visible("GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10", (int[]){0}, 1);
    check_visible("GPU-ffff", NULL, 0);
    check_visible("MIG-1234", NULL, 0);
}

/* ---- discovery through the fake nvidia-smi ---- */

static void test_auto_falls_back_to_nvidia_smi(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].source, "nvidia-smi");
        assert_string_equal(l.v[i].uuid, uuid_mixed[i]);
        assert_int_equal(l.v[i].nprocs, i == 1 ? 1 : 0);
        assert_true(l.v[i].node[0] != '\0');
    }
    dev_list_free(&l);
}

static void test_gpu_selection(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover("2,0", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].ordinal, 2);
    assert_string_equal(l.v[0].name, "NVIDIA GeForce GTX 780 Ti");
    assert_int_equal(l.v[1].ordinal, 0);
    dev_list_free(&l);

    assert_int_equal(dev_discover("GPU-a4d2b8e6-9f1c-4a7e-8d3b-5c9e1f7a2d43,GPU-8e3f", &l,
                                  err, sizeof err),
                     0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].ordinal, 3);
    assert_int_equal(l.v[1].ordinal, 1);
    dev_list_free(&l);

    assert_int_equal(dev_discover("0,4", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err, "--devices '0,4': position 3: expected a visible GPU index "
                             "(0..3), got '4'");
    assert_int_equal(dev_discover("1,0,1", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err,
                        "--devices '1,0,1': position 5: expected each GPU once, got '1'");
    assert_int_equal(dev_discover("0,GPU-5b9a", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err,
                        "--devices '0,GPU-5b9a': position 3: expected each GPU once, got "
                        "'GPU-5b9a'");
    assert_int_equal(dev_discover("GPU-0123", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err, "--devices 'GPU-0123': position 1: expected the UUID of a "
                             "visible GPU, got 'GPU-0123'");
    assert_null(l.v);
}

static void test_spec_indices_are_visible_positions(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    setenv("CUDA_VISIBLE_DEVICES", "3,GPU-1c7e9a4f-2d8b-4f3c-b6e1-9a5d2c7f4e32", 1);
    assert_int_equal(dev_discover("1", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].ordinal, 2); /* position 1 of (3, 2) */
    assert_string_equal(l.v[0].uuid, uuid_mixed[2]);
    dev_list_free(&l);
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].ordinal, 3);
    dev_list_free(&l);
    assert_int_equal(dev_discover("2", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err,
                        "--devices '2': position 1: expected a visible GPU index (0..1), "
                        "got '2'");
    /* a GPU hidden by CUDA_VISIBLE_DEVICES cannot be named by UUID either */
    assert_int_equal(dev_discover(uuid_mixed[0], &l, err, sizeof err), -EINVAL);

    setenv("CUDA_VISIBLE_DEVICES", "-1", 1);
    assert_int_equal(dev_discover("0", &l, err, sizeof err), -EINVAL);
    assert_string_equal(err,
                        "--devices '0': position 1: expected a visible GPU index (none "
                        "visible), got '0'");
    /* auto with every GPU hidden: one CPU device */
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].kind, DEV_CPU);
    dev_list_free(&l);
}

static void test_memory_from_query_when_csv_lacks_it(void **state)
{
    (void)state;
    setenv("FAKE_NVSMI", "reserved", 1);
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover(NULL, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].mem_total, MIB(11264));
    assert_int_equal(l.v[0].mem_reserved, MIB(244));
    assert_int_equal(l.v[0].mem_free, MIB(11018));
    assert_int_equal(l.v[1].mem_free, MIB(2284));
    assert_int_equal(l.v[0].nprocs, 0);
    assert_int_equal(l.v[1].nprocs, 2);
    assert_int_equal(l.v[1].util_pct, 100);
    dev_list_free(&l);
}

static void test_no_gpu_back_end(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    setenv("FAKE_NVSMI", "no-driver", 1);
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].kind, DEV_CPU);
    assert_string_equal(l.v[0].source, "cpu");
    dev_list_free(&l);
    assert_int_equal(dev_discover("0", &l, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err, "--devices '0': no GPU back end works (nvml: "
                                "/nonexistent/libnvidia-ml.so.1: cannot open"));
    assert_non_null(strstr(err, "; nvidia-smi: "));
    assert_non_null(strstr(err, "exited with status 9)"));
    assert_null(l.v);

    setenv("SHOTQ_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
    assert_int_equal(dev_discover("GPU-1", &l, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err, "cannot run /nonexistent/nvidia-smi: No such file or "
                                "directory"));
    setenv("SHOTQ_NVIDIA_SMI", DATA "fake-nvidia-smi", 1);

    /* unreadable output is "unavailable" too */
    setenv("FAKE_NVSMI", "malformed-fields", 1);
    assert_int_equal(dev_discover("0", &l, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err,
                           "nvidia-smi: line 3: expected 8 comma-separated fields, got "
                           "5)"));
}

static void test_nvidia_smi_timeout(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    setenv("FAKE_NVSMI", "hang", 1);
    setenv("SHOTQ_NVIDIA_SMI_TIMEOUT_MS", "200", 1);
    assert_int_equal(dev_discover("0", &l, err, sizeof err), -ENODEV);
    unsetenv("SHOTQ_NVIDIA_SMI_TIMEOUT_MS");
    assert_non_null(strstr(err, "; nvidia-smi: no answer within 200 ms)"));
    /* the killed child was reaped: no child of ours is left */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_refresh_rereads_gpus(void **state)
{
    (void)state;
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.v[0].mem_free, MIB(11098));
    assert_int_equal(l.v[1].nprocs, 1);
    setenv("FAKE_NVSMI", "mixed-node-later", 1);
    assert_int_equal(dev_refresh(&l), 0);
    assert_int_equal(l.v[0].mem_free, MIB(3020));
    assert_int_equal(l.v[0].util_pct, 100);
    assert_int_equal(l.v[0].nprocs, 1);
    assert_int_equal(l.v[1].mem_free, MIB(11098));
    assert_int_equal(l.v[1].util_pct, 0);
    assert_int_equal(l.v[1].nprocs, 0);
    assert_int_equal(l.v[1].mem_total, MIB(11264));
    setenv("FAKE_NVSMI", "no-driver", 1);
    assert_int_equal(dev_refresh(&l), -ENODEV);
    assert_int_equal(l.v[0].mem_free, MIB(3020)); /* unchanged on failure */
    dev_list_free(&l);
}

/* ---- NVML through the fake library (built here when a compiler exists) ---- */

static char fake_nvml_dir[64];  /* temporary folder of the built library */
static char fake_nvml_lib[128]; /* its path, "" when it could not be built */

static int setup_fake_nvml(void **state)
{
    setup_fake_gpus(state);
    if (!fake_nvml_lib[0]) {
        strcpy(fake_nvml_dir, "/tmp/shotq-test-nvml-XXXXXX");
        if (!mkdtemp(fake_nvml_dir))
            return 0;
        char cmd[512];
        snprintf(
            cmd, sizeof cmd,
            "${CC:-cc} -shared -fPIC -o %s/libfake-nvml.so %sfake-nvml.c 2>/dev/null",
            fake_nvml_dir, DATA);
        if (system(cmd) == 0)
            snprintf(fake_nvml_lib, sizeof fake_nvml_lib, "%s/libfake-nvml.so",
                     fake_nvml_dir);
    }
    if (fake_nvml_lib[0])
        setenv("SHOTQ_NVML_LIB", fake_nvml_lib, 1);
    return 0;
}

static int teardown_fake_nvml(void **state)
{
    unsetenv("FAKE_NVML_IDLE");
    unsetenv("FAKE_NVML_FAIL_INIT");
    return teardown_env(state);
}

static void test_nvml_discovery_and_refresh(void **state)
{
    (void)state;
    if (!fake_nvml_lib[0])
        skip();
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].source, "nvml");
    assert_string_equal(l.v[0].name, "NVIDIA GeForce GTX 1080 Ti");
    assert_string_equal(l.v[0].uuid, uuid_mixed[0]);
    assert_string_equal(l.v[0].pci_bus_id, "00000000:02:00.0"); /* via PciInfo_v2 */
    assert_int_equal(l.v[0].mem_total, MIB(11264));
    assert_int_equal(l.v[0].mem_free, MIB(2154));
    assert_int_equal(l.v[0].util_pct, 97);
    assert_int_equal(l.v[0].nprocs, 1); /* counted through INSUFFICIENT_SIZE */
    assert_int_equal(l.v[0].mem_bus_width, 352);
    assert_int_equal(l.v[0].mem_clock_mhz, 5505);
    assert_true(fabs(l.v[0].speed - 484.44 / 484.0) < 1e-12);
    assert_string_equal(l.v[1].uuid, uuid_mixed[2]);
    assert_true(fabs(l.v[1].speed - 336.0 / 484.0) < 1e-12);
    assert_int_equal(l.v[1].nprocs, 0);

    setenv("FAKE_NVML_IDLE", "1", 1);
    assert_int_equal(dev_refresh(&l), 0);
    assert_int_equal(l.v[0].mem_free, MIB(11264 - 166));
    assert_int_equal(l.v[0].util_pct, 0);
    assert_int_equal(l.v[0].nprocs, 0);
    assert_int_equal(l.v[1].mem_free, MIB(3009));

    /* a GPU that vanished is reported and left as it was */
    strcpy(l.v[1].uuid, "GPU-gone");
    assert_int_equal(dev_refresh(&l), -ENODEV);
    assert_int_equal(l.v[1].mem_free, MIB(3009));
    dev_list_free(&l);

    /* selection by UUID prefix against NVML's list */
    assert_int_equal(dev_discover("GPU-1c7e", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].ordinal, 1);
    dev_list_free(&l);
}

static void test_nvml_init_failure_falls_back(void **state)
{
    (void)state;
    if (!fake_nvml_lib[0])
        skip();
    dev_shutdown(); /* so the next discovery loads and initialises again */
    setenv("FAKE_NVML_FAIL_INIT", "1", 1);
    struct dev_list l;
    char err[512];
    assert_int_equal(dev_discover("auto", &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].source, "nvidia-smi");
    dev_list_free(&l);
    setenv("FAKE_NVSMI", "no-driver", 1);
    assert_int_equal(dev_discover("0", &l, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err, "(nvml: nvmlInit: Driver Not Loaded; nvidia-smi: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_expansion),
        cmocka_unit_test(test_sim_defaults_and_ordinals),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test_teardown(test_env_default_spec, teardown_env),
        cmocka_unit_test(test_cpu_devices),
        cmocka_unit_test(test_kind_names_and_speed_prior),
        cmocka_unit_test(test_csv_mixed_node),
        cmocka_unit_test(test_csv_na_fields),
        cmocka_unit_test(test_csv_malformed),
        cmocka_unit_test(test_query_memory_reserved),
        cmocka_unit_test(test_query_memory_no_reserved),
        cmocka_unit_test(test_query_memory_malformed),
        cmocka_unit_test(test_apps_parser),
        cmocka_unit_test(test_procs_parser),
        cmocka_unit_test(test_visible_filter),
        cmocka_unit_test_setup_teardown(test_auto_falls_back_to_nvidia_smi,
                                        setup_fake_gpus, teardown_env),
        cmocka_unit_test_setup_teardown(test_gpu_selection, setup_fake_gpus,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_spec_indices_are_visible_positions,
                                        setup_fake_gpus, teardown_env),
        cmocka_unit_test_setup_teardown(test_memory_from_query_when_csv_lacks_it,
                                        setup_fake_gpus, teardown_env),
        cmocka_unit_test_setup_teardown(test_no_gpu_back_end, setup_fake_gpus,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_nvidia_smi_timeout, setup_fake_gpus,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_refresh_rereads_gpus, setup_fake_gpus,
                                        teardown_env),
        cmocka_unit_test_setup_teardown(test_nvml_discovery_and_refresh, setup_fake_nvml,
                                        teardown_fake_nvml),
        cmocka_unit_test_setup_teardown(test_nvml_init_failure_falls_back,
                                        setup_fake_nvml, teardown_fake_nvml),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (fake_nvml_lib[0])
        unlink(fake_nvml_lib);
    if (fake_nvml_dir[0])
        rmdir(fake_nvml_dir);
    return failed;
}
