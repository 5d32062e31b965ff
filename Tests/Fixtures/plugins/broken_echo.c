/*
 * broken_echo.c — the C echo example with one deliberate defect, chosen at
 * compile time with -DBREAK=<n>. The conformance suite must fail each one on
 * the check named in Tests/ConformanceTests (and survive doing so):
 *
 *   1 accepts any signature      2 crashes on an empty body
 *   3 serves another ABI major   4 one outcome for a two-message batch
 *   5 reads 429 as permanent     6 leaks on every call
 *   7 takes 30 s in verify       8 traps on a timestamp of INT64_MIN
 *   9 sends a message without its files (ABI 1.2)
 *
 * Linked with the plugin version script, so only the entry symbol is exported.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#define batchsender_plugin_entry echo_original_entry
#include "../../../examples/c-echo/echo_plugin.c"
#undef batchsender_plugin_entry

#include <time.h>

#ifndef BREAK
#error "compile with -DBREAK=<1..9>"
#endif

static void leak(void) {
#if BREAK == 6
    static void *volatile leaked; /* volatile: the compiler may not elide the allocation */
    leaked = malloc(512);
    if (leaked) memset(leaked, 0xab, 512);
#endif
}

static bsp_status broken_prepare(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count) {
    leak();
#if BREAK == 9
    /* Forgets every message's files, as a plugin that never read the field would, and sends the rest. */
    bsp_message copies[128];
    const bsp_message *stripped[128];
    if (messages && count <= 128) {
        for (size_t i = 0; i < count; i++) {
            if (!messages[i]) { stripped[i] = NULL; continue; }
            copies[i] = *messages[i];
            copies[i].attachments.items = NULL;
            copies[i].attachments.count = 0;
            stripped[i] = &copies[i];
        }
        return echo_prepare(self, call, stripped, count);
    }
#endif
    return echo_prepare(self, call, messages, count);
}

/* Passes outcomes through, except those this defect changes or drops. */
static bsp_status (*original_emit_outcome)(bsp_call *, const bsp_outcome *);

static bsp_status filtering_emit_outcome(bsp_call *call, const bsp_outcome *outcome) {
    bsp_outcome copy = *outcome;
#if BREAK == 4
    if (copy.message_index == 1) return BSP_OK;
#endif
#if BREAK == 5
    if ((copy.kind == BSP_OUTCOME_THROTTLED || copy.kind == BSP_OUTCOME_RETRYABLE) && str_equals(copy.code, "429")) {
        copy.kind = BSP_OUTCOME_PERMANENT;
        copy.retry_after_ms = -1;
    }
#endif
    return original_emit_outcome(call, &copy);
}

static bsp_status broken_interpret(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count,
                                   const bsp_http_response *response) {
    leak();
    if (!call) return BSP_E_INVALID_ARGUMENT;
    bsp_call filtered = *call;
    original_emit_outcome = call->emit_outcome;
    filtered.emit_outcome = filtering_emit_outcome;
    return echo_interpret(self, &filtered, messages, count, response);
}

static bsp_status broken_verify(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    leak();
#if BREAK == 1
    (void)self; (void)call; (void)request;
    return BSP_OK;
#else
#if BREAK == 7
    struct timespec thirty = { 30, 0 };
    nanosleep(&thirty, NULL);
#endif
#if BREAK == 8
    /* The age as the Swift SDK took it before issue 30: now - seconds, which traps at INT64_MIN. */
    const bsp_str *stamp = request ? find_header(request->headers, "x-echo-timestamp") : NULL;
    if (stamp && call && stamp->len == 20 && memcmp(stamp->ptr, "-9223372036854775808", 20) == 0) {
        int64_t age;
        if (__builtin_sub_overflow(call->host->now_ms(call) / 1000, INT64_MIN, &age)) abort();
    }
#endif
    return echo_verify(self, call, request);
#endif
}

static bsp_status broken_parse(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    leak();
#if BREAK == 2
    if (request && request->body.len == 0) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
#endif
    return echo_parse(self, call, request);
}

static const bsp_sender_v1 broken_sender = { sizeof(bsp_sender_v1), broken_prepare, broken_interpret };
static const bsp_webhook_v1 broken_webhook = { sizeof(bsp_webhook_v1), broken_verify, broken_parse };

static const void *broken_get_interface(const char *id) {
    if (!id) return NULL;
    if (strcmp(id, BSP_SENDER_V1) == 0) return &broken_sender;
    if (strcmp(id, BSP_WEBHOOK_V1) == 0) return &broken_webhook;
    return NULL;
}

static bsp_plugin broken_plugin;

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
#if BREAK == 3
    /* Built against a future header: serves major 2 and refuses the host's 1. */
    if (host_abi_major != BSP_ABI_MAJOR + 1) return NULL;
    host_abi_major = BSP_ABI_MAJOR;
#endif
    const bsp_plugin *original = echo_original_entry(host_abi_major, host_abi_minor);
    if (!original) return NULL;
    broken_plugin = *original;
    broken_plugin.get_interface = broken_get_interface;
#if BREAK == 3
    broken_plugin.abi_major = BSP_ABI_MAJOR + 1;
#endif
    return &broken_plugin;
}
