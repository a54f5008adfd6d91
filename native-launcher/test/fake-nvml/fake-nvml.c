/*
 * A stand-in for libnvidia-ml.so.1, so the NVML binding can be tested on a
 * machine without a GPU.  It exports the functions rbee calls, with NVML's
 * signatures, return codes and struct layouts, and answers from a script:
 * a text file named by the environment variable RBEE_FAKE_NVML, read again at
 * every nvmlInit_v2 (so each test can load its own).  Lines ('#' comments):
 *
 *   device UUID TOTAL USED GPU_UTIL MEM_UTIL TEMP NAME...   one GPU (index = order)
 *   process DEV PID BYTES|NA          a compute process; NA = NVML_VALUE_NOT_AVAILABLE
 *   sample DEV PID TIMESTAMP_US SM MEM  a per-process utilization sample
 *   count N                           nvmlDeviceGetCount_v2 reports N (0: no GPU)
 *   init-error CODE                   nvmlInit_v2 fails with CODE
 *   error FUNCTION CODE [TIMES [SKIP]]  FUNCTION returns CODE, TIMES times (default
 *                                     always) after the first SKIP calls (default 0)
 *   hang FUNCTION MS [TIMES [SKIP]]   FUNCTION first sleeps MS, likewise
 *   insufficient-size-once EXTRA      the first filling call for compute processes
 *                                     answers NVML_ERROR_INSUFFICIENT_SIZE, asking for
 *                                     EXTRA more entries than offered (processes
 *                                     that appeared between the two calls)
 *   log PATH                          append one line per call: name, arguments, result
 *
 * Build variants (native-launcher/Makefile):
 *   -DNO_V3           no nvmlDeviceGetComputeRunningProcesses_v3 symbol (older driver)
 *   -DNO_V2           no _v2 either: only the legacy v1 call and layout
 *   -DCC_V3           a driver whose _v3 fills the 32-byte layout with
 *                     usedGpuCcProtectedMemory; such drivers export
 *                     nvmlDeviceGetConfComputeMemSizeInfo but not
 *                     nvmlDeviceGetRunningProcessDetailList.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0, NVML_ERROR_UNINITIALIZED = 1, NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3, NVML_ERROR_NOT_FOUND = 6, NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9, NVML_ERROR_TIMEOUT = 10, NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_UNKNOWN = 999
};
#define NVML_VALUE_NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFULL
#define NVML_TEMPERATURE_GPU 0

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
typedef struct {
    unsigned int pid; unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t;
typedef struct {
    unsigned int pid; unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
} nvmlProcessInfo_cc_t;
typedef struct {
    unsigned int pid; unsigned long long timeStamp;
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "v1 layout");
_Static_assert(sizeof(nvmlProcessInfo_v2_t) == 24, "v2/v3 layout");
_Static_assert(sizeof(nvmlProcessInfo_cc_t) == 32, "cc v3 layout");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "sample layout");

#define MAXDEV 8
#define MAXPROC 64
#define MAXRULE 16

struct proc { unsigned int pid; unsigned long long used; };
struct sample { unsigned int pid, sm, mem; unsigned long long ts; };
struct device {
    char uuid[96], name[96];
    unsigned long long total, used;
    unsigned int gpu_util, mem_util, temp;
    int nproc, nsample;
    struct proc procs[MAXPROC];
    struct sample samples[MAXPROC];
};
/* error/hang rules: FUNCTION -> code or delay, for `times` calls (-1: always) */
struct rule { char fn[64]; int code; int ms; int times; int skip; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int refs;                      /* nvmlInit_v2 minus nvmlShutdown, as NVML counts */
static int ndev, count_override = -1, init_error, grow_extra;
static struct device dev[MAXDEV];
static struct rule errors[MAXRULE], hangs[MAXRULE];
static int nerrors, nhangs;
static char logpath[512];

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
    if (!logpath[0]) return;
    FILE *f = fopen(logpath, "a");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* Applies the script's hang and error rules for `fn`; returns the scripted
 * error code, or NVML_SUCCESS to go on.  The sleep happens without the lock,
 * so that other calls are not blocked behind it (as in a real hung driver
 * call, only the caller waits). */
static int fires(struct rule *r, const char *fn) {
    if (strcmp(r->fn, fn) || r->times == 0) return 0;
    if (r->skip > 0) { r->skip--; return 0; }
    if (r->times > 0) r->times--;
    return 1;
}

static nvmlReturn_t scripted(const char *fn) {
    int ms = 0, code = NVML_SUCCESS;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nhangs; i++)
        if (fires(&hangs[i], fn)) ms = hangs[i].ms;
    for (int i = 0; i < nerrors; i++)
        if (fires(&errors[i], fn)) code = errors[i].code;
    pthread_mutex_unlock(&lock);
    if (ms > 0) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
    }
    return code;
}

static int parse_rule(struct rule *r, const char *line, int with_ms) {
    int value, times = -1, skip = 0;
    int n = sscanf(line, "%63s %d %d %d", r->fn, &value, &times, &skip);
    if (n < 2) return -1;
    if (with_ms) r->ms = value; else r->code = value;
    r->times = times;
    r->skip = skip;
    return 0;
}

static void load_script(void) {
    ndev = 0; count_override = -1; init_error = 0; grow_extra = 0;
    nerrors = nhangs = 0; logpath[0] = 0;
    memset(dev, 0, sizeof dev);
    const char *path = getenv("RBEE_FAKE_NVML");
    if (!path) return;              /* no script: a driver with no GPU */
    FILE *f = fopen(path, "r");
    if (!f) { init_error = NVML_ERROR_UNKNOWN; return; }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#') continue;
        char kw[32];
        int off = 0;
        if (sscanf(p, "%31s %n", kw, &off) < 1) continue;
        char *rest = p + off;
        if (!strcmp(kw, "device") && ndev < MAXDEV) {
            struct device *d = &dev[ndev];
            int noff = 0;
            if (sscanf(rest, "%95s %llu %llu %u %u %u %n", d->uuid, &d->total, &d->used,
                       &d->gpu_util, &d->mem_util, &d->temp, &noff) >= 6 && noff > 0) {
                snprintf(d->name, sizeof d->name, "%s", rest + noff);
                ndev++;
            }
        } else if (!strcmp(kw, "process")) {
            int di; unsigned int pid; char bytes[32];
            if (sscanf(rest, "%d %u %31s", &di, &pid, bytes) == 3 && di >= 0 && di < ndev
                && dev[di].nproc < MAXPROC) {
                struct proc *pr = &dev[di].procs[dev[di].nproc++];
                pr->pid = pid;
                pr->used = strcmp(bytes, "NA") ? strtoull(bytes, NULL, 10) : NVML_VALUE_NOT_AVAILABLE;
            }
        } else if (!strcmp(kw, "sample")) {
            int di; struct sample s;
            if (sscanf(rest, "%d %u %llu %u %u", &di, &s.pid, &s.ts, &s.sm, &s.mem) == 5
                && di >= 0 && di < ndev && dev[di].nsample < MAXPROC)
                dev[di].samples[dev[di].nsample++] = s;
        } else if (!strcmp(kw, "count")) {
            count_override = atoi(rest);
        } else if (!strcmp(kw, "init-error")) {
            init_error = atoi(rest);
        } else if (!strcmp(kw, "insufficient-size-once")) {
            grow_extra = atoi(rest);
        } else if (!strcmp(kw, "error") && nerrors < MAXRULE) {
            if (parse_rule(&errors[nerrors], rest, 0) == 0) nerrors++;
        } else if (!strcmp(kw, "hang") && nhangs < MAXRULE) {
            if (parse_rule(&hangs[nhangs], rest, 1) == 0) nhangs++;
        } else if (!strcmp(kw, "log")) {
            snprintf(logpath, sizeof logpath, "%s", rest);
        }
    }
    fclose(f);
}

/* A handle is a pointer to one of our devices; anything else is invalid. */
static struct device *valid(void *h) {
    struct device *d = h;
    return refs > 0 && d >= dev && d < dev + ndev ? d : NULL;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

EXPORT nvmlReturn_t nvmlInit_v2(void) {
    pthread_mutex_lock(&lock);
    load_script();
    pthread_mutex_unlock(&lock);
    int e = scripted(__func__);      /* a slow or failing driver start */
    if (!e) e = init_error;
    pthread_mutex_lock(&lock);
    if (!e) refs++;
    pthread_mutex_unlock(&lock);
    logf_("nvmlInit_v2 -> %d", e);
    return e;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
    pthread_mutex_lock(&lock);
    int r = refs > 0 ? (refs--, NVML_SUCCESS) : NVML_ERROR_UNINITIALIZED;
    pthread_mutex_unlock(&lock);
    logf_("nvmlShutdown -> %d", r);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    nvmlReturn_t r = scripted(__func__);
    if (r == NVML_SUCCESS) {
        if (refs <= 0) r = NVML_ERROR_UNINITIALIZED;
        else if (!count) r = NVML_ERROR_INVALID_ARGUMENT;
        else *count = count_override >= 0 ? (unsigned)count_override : (unsigned)ndev;
    }
    logf_("%s -> %d", __func__, r);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **handle) {
    nvmlReturn_t r = scripted(__func__);
    if (r == NVML_SUCCESS) {
        if (refs <= 0) r = NVML_ERROR_UNINITIALIZED;
        else if (!handle || index >= (unsigned)ndev) r = NVML_ERROR_INVALID_ARGUMENT;
        else *handle = &dev[index];
    }
    logf_("%s %u -> %d", __func__, index, r);
    return r;
}

static nvmlReturn_t copy_string(const char *fn, void *h, char *buf, unsigned int len, int uuid) {
    nvmlReturn_t r = scripted(fn);
    struct device *d = valid(h);
    if (r == NVML_SUCCESS) {
        const char *s = d ? (uuid ? d->uuid : d->name) : NULL;
        if (!d || !buf) r = NVML_ERROR_INVALID_ARGUMENT;
        else if (strlen(s) + 1 > len) r = NVML_ERROR_INSUFFICIENT_SIZE;
        else memcpy(buf, s, strlen(s) + 1);
    }
    logf_("%s %ld len=%u -> %d", fn, d ? (long)(d - dev) : -1L, len, r);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(void *h, char *uuid, unsigned int length) {
    return copy_string(__func__, h, uuid, length, 1);
}

EXPORT nvmlReturn_t nvmlDeviceGetName(void *h, char *name, unsigned int length) {
    return copy_string(__func__, h, name, length, 0);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(void *h, nvmlMemory_t *m) {
    nvmlReturn_t r = scripted(__func__);
    struct device *d = valid(h);
    if (r == NVML_SUCCESS) {
        if (!d || !m) r = NVML_ERROR_INVALID_ARGUMENT;
        else { m->total = d->total; m->used = d->used; m->free = d->total - d->used; }
    }
    logf_("%s -> %d", __func__, r);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(void *h, nvmlUtilization_t *u) {
    nvmlReturn_t r = scripted(__func__);
    struct device *d = valid(h);
    if (r == NVML_SUCCESS) {
        if (!d || !u) r = NVML_ERROR_INVALID_ARGUMENT;
        else { u->gpu = d->gpu_util; u->memory = d->mem_util; }
    }
    logf_("%s -> %d", __func__, r);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(void *h, int sensor, unsigned int *temp) {
    nvmlReturn_t r = scripted(__func__);
    struct device *d = valid(h);
    if (r == NVML_SUCCESS) {
        if (!d || !temp || sensor != NVML_TEMPERATURE_GPU) r = NVML_ERROR_INVALID_ARGUMENT;
        else *temp = d->temp;
    }
    logf_("%s sensor=%d -> %d", __func__, sensor, r);
    return r;
}

/* The running-process calls share everything but the element layout. */
enum layout { V1, V2, CC };

static nvmlReturn_t processes(const char *fn, void *h, unsigned int *count, void *infos,
                              enum layout lay) {
    nvmlReturn_t r = scripted(fn);
    struct device *d = valid(h);
    unsigned int in = count ? *count : 0;
    if (r != NVML_SUCCESS) goto out;
    if (!d || !count) { r = NVML_ERROR_INVALID_ARGUMENT; goto out; }
    unsigned int n = (unsigned)d->nproc;
    pthread_mutex_lock(&lock);
    int grow = infos && grow_extra > 0 ? grow_extra : 0;
    if (grow) grow_extra = 0;
    pthread_mutex_unlock(&lock);
    if (grow) { *count = in + (unsigned)grow; r = NVML_ERROR_INSUFFICIENT_SIZE; goto out; }
    if (n == 0) { *count = 0; goto out; }
    if (in < n || !infos) { *count = n; r = NVML_ERROR_INSUFFICIENT_SIZE; goto out; }
    for (unsigned int i = 0; i < n; i++) {
        const struct proc *p = &d->procs[i];
        switch (lay) {
        case V1: ((nvmlProcessInfo_v1_t *)infos)[i] = (nvmlProcessInfo_v1_t){ p->pid, p->used }; break;
        case V2: ((nvmlProcessInfo_v2_t *)infos)[i] =
                     (nvmlProcessInfo_v2_t){ p->pid, p->used, 0xFFFFFFFFu, 0xFFFFFFFFu }; break;
        case CC: ((nvmlProcessInfo_cc_t *)infos)[i] =
                     (nvmlProcessInfo_cc_t){ p->pid, p->used, 0xFFFFFFFFu, 0xFFFFFFFFu, 0 }; break;
        }
    }
    *count = n;
out:
    logf_("%s %ld count_in=%u -> %d count_out=%u", fn, d ? (long)(d - dev) : -1L, in, r,
          count ? *count : 0);
    return r;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(void *h, unsigned int *c, nvmlProcessInfo_v1_t *i) {
    return processes(__func__, h, c, i, V1);
}

#ifndef NO_V2
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(void *h, unsigned int *c, nvmlProcessInfo_v2_t *i) {
    return processes(__func__, h, c, i, V2);
}
#endif

#ifndef NO_V3
#ifdef CC_V3
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned int *c, nvmlProcessInfo_cc_t *i) {
    return processes(__func__, h, c, i, CC);
}
/* Only its presence matters: it marks the drivers whose _v3 uses the 32-byte layout. */
EXPORT nvmlReturn_t nvmlDeviceGetConfComputeMemSizeInfo(void *h, void *info) {
    (void)h; (void)info;
    return NVML_ERROR_NOT_SUPPORTED;
}
#else
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned int *c, nvmlProcessInfo_v2_t *i) {
    return processes(__func__, h, c, i, V2);
}
#endif
#endif

EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(void *h, nvmlProcessUtilizationSample_t *util,
                                                    unsigned int *count, unsigned long long lastSeen) {
    nvmlReturn_t r = scripted(__func__);
    struct device *d = valid(h);
    unsigned int in = count ? *count : 0;
    if (r != NVML_SUCCESS) goto out;
    if (!d || !count) { r = NVML_ERROR_INVALID_ARGUMENT; goto out; }
    unsigned int n = 0;
    for (int i = 0; i < d->nsample; i++)
        if (d->samples[i].ts > lastSeen) n++;
    if (n == 0) { *count = 0; r = NVML_ERROR_NOT_FOUND; goto out; }
    if (!util || in < n) { *count = n; r = NVML_ERROR_INSUFFICIENT_SIZE; goto out; }
    unsigned int k = 0;
    for (int i = 0; i < d->nsample; i++) {
        const struct sample *s = &d->samples[i];
        if (s->ts > lastSeen)
            util[k++] = (nvmlProcessUtilizationSample_t){ s->pid, s->ts, s->sm, s->mem, 0, 0 };
    }
    *count = n;
out:
    logf_("%s %ld count_in=%u lastSeen=%llu -> %d count_out=%u", __func__,
          d ? (long)(d - dev) : -1L, in, lastSeen, r, count ? *count : 0);
    return r;
}
