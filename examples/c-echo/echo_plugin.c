/*
 * echo_plugin.c — the BatchSender example provider in plain C.
 *
 * It speaks the echo protocol (docs/providers/echo.md), byte for byte like
 * the Swift example in Sources/Providers/Echo: it POSTs messages as JSON to
 * a configured URL, signed with HMAC-SHA256 in `x-echo-signature`, and
 * verifies webhooks signed the same way. It needs no Swift runtime:
 *
 *   cc -std=c11 -shared -fPIC -O2 -I Sources/ProviderSDK/ABI/include \
 *      -Wl,--version-script=Sources/ProviderSDK/plugin-exports.map \
 *      examples/c-echo/echo_plugin.c -lcrypto -o libecho_c.so
 *
 * Start here when writing a plugin in C: the descriptor, create/destroy, the
 * sender and webhook tables, and the entry function are all there is.
 */
#include <batchsender/plugin.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_TOLERANCE_SECONDS 300
#define ECHO_MAX_RETRY_AFTER_MS INT64_C(86400000)
#define ECHO_LATEST_EVENT_MS INT64_C(253402300799999)
#define ECHO_LINE_FORMAT "expected: event_id type provider_message_id recipient unix_ms (0 to 253402300799999: 1970 to 9999)"

/* The ABI minor of the host, from the entry function: a 1.0 host (0) has no
 * BSP_OUTCOME_THROTTLED, and is sent BSP_OUTCOME_RETRYABLE instead. */
static uint32_t host_minor;

/* ---- small helpers -------------------------------------------------------- */

static bsp_str cstr(const char *text) {
    bsp_str s = { text, strlen(text) };
    return s;
}

static int str_equals(bsp_str s, const char *text) {
    size_t n = strlen(text);
    return s.len == n && (n == 0 || memcmp(s.ptr, text, n) == 0);
}

static bsp_status fail(bsp_call *call, bsp_status status, const char *field, const char *message) {
    if (call && call->set_error) call->set_error(call, cstr(field), cstr(message));
    return status;
}

/* A growable byte buffer. `failed` is set when an allocation fails. */
typedef struct buffer {
    char *data;
    size_t len, cap;
    int failed;
} buffer;

static void buf_put(buffer *b, const char *bytes, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        while (cap < b->len + n) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) { b->failed = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void buf_raw(buffer *b, const char *text) { buf_put(b, text, strlen(text)); }

/* The echo protocol's escaping: " and \ escaped, bytes below 0x20 as \u00XX. */
static void buf_json_string(buffer *b, bsp_str s) {
    static const char hex[] = "0123456789abcdef";
    buf_put(b, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') {
            char escaped[2] = { '\\', (char)c };
            buf_put(b, escaped, 2);
        } else if (c < 0x20) {
            char escaped[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_put(b, escaped, 6);
        } else {
            buf_put(b, (const char *)&s.ptr[i], 1);
        }
    }
    buf_put(b, "\"", 1);
}

static void buf_json_list(buffer *b, bsp_str_list list) {
    buf_put(b, "[", 1);
    for (size_t i = 0; i < list.count; i++) {
        if (i > 0) buf_put(b, ",", 1);
        buf_json_string(b, list.items[i]);
    }
    buf_put(b, "]", 1);
}

static void hex_encode(const unsigned char *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A decimal integer that fills the whole view (digits, an optional leading '-'), read with bounds:
 * the value comes from a request, and signed overflow in C is undefined behaviour, so every step
 * is checked. Any number of digits is read; one outside [low, high] is PARSE_OUT_OF_RANGE. */
enum { PARSE_OK, PARSE_NOT_INTEGER, PARSE_OUT_OF_RANGE };
static int parse_bounded(bsp_str s, int64_t low, int64_t high, int64_t *out) {
    size_t i = 0;
    int negative = s.len > 0 && s.ptr[0] == '-', overflowed = 0;
    if (negative) i = 1;
    if (i >= s.len) return PARSE_NOT_INTEGER;
    int64_t value = 0; /* accumulated negative: its range reaches INT64_MIN */
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return PARSE_NOT_INTEGER;
        if (!overflowed && (__builtin_mul_overflow(value, 10, &value) || __builtin_sub_overflow(value, s.ptr[i] - '0', &value)))
            overflowed = 1;
    }
    if (overflowed || (!negative && value == INT64_MIN)) return PARSE_OUT_OF_RANGE;
    if (!negative) value = -value;
    if (value < low || value > high) return PARSE_OUT_OF_RANGE;
    *out = value;
    return PARSE_OK;
}

/* |a - b| without overflow: the widest gap, INT64_MIN to INT64_MAX, fits in uint64_t. */
static uint64_t distance(int64_t a, int64_t b) {
    return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* Days since 1970-01-01 of a Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t days_in_month(int64_t m, int64_t y) {
    if (m == 2) return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
    return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/* An IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", in Unix seconds. 0 when it is not one.
 * Each field is bounded (years 1 to 9999, a real day of the month), as in the Swift SDK's HTTPDate. */
static int parse_http_date(bsp_str s, int64_t *out) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (s.len != 29 || s.ptr[3] != ',' || s.ptr[4] != ' ' || s.ptr[7] != ' ' || s.ptr[11] != ' ' || s.ptr[16] != ' '
        || s.ptr[19] != ':' || s.ptr[22] != ':' || memcmp(s.ptr + 25, " GMT", 4) != 0) return 0;
    int64_t day, year, hour, minute, second;
    bsp_str field = { s.ptr + 5, 2 };
    if (parse_bounded(field, 1, 31, &day) != PARSE_OK) return 0;
    field.ptr = s.ptr + 12; field.len = 4;
    if (parse_bounded(field, 1, 9999, &year) != PARSE_OK) return 0;
    field.ptr = s.ptr + 17; field.len = 2;
    if (parse_bounded(field, 0, 23, &hour) != PARSE_OK) return 0;
    field.ptr = s.ptr + 20;
    if (parse_bounded(field, 0, 59, &minute) != PARSE_OK) return 0;
    field.ptr = s.ptr + 23;
    if (parse_bounded(field, 0, 60, &second) != PARSE_OK) return 0;
    int month = 0;
    while (month < 12 && memcmp(months + 3 * month, s.ptr + 8, 3) != 0) month++;
    if (month == 12 || day > days_in_month(month + 1, year)) return 0;
    *out = days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second;
    return 1;
}

static const bsp_str *find_header(bsp_pair_list headers, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < headers.count; i++) {
        bsp_str h = headers.items[i].name;
        if (h.len != n) continue;
        size_t j = 0;
        for (; j < n; j++) {
            char c = h.ptr[j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != name[j]) break;
        }
        if (j == n) return &headers.items[i].value;
    }
    return NULL;
}

/* ---- the instance ----------------------------------------------------------- */

struct bsp_instance {
    char *url;
    unsigned char *secret;
    size_t secret_len;
};

/* hex(HMAC-SHA256(secret, "<timestamp>." + body)) into out_hex (65 bytes).
 * Returns 0 when memory ran out. */
static int sign(const bsp_instance *self, bsp_str timestamp, const uint8_t *body, size_t body_len, char out_hex[65]) {
    size_t total = timestamp.len + 1 + body_len;
    unsigned char *joined = malloc(total);
    if (!joined) return 0;
    memcpy(joined, timestamp.ptr, timestamp.len);
    joined[timestamp.len] = '.';
    if (body_len) memcpy(joined + timestamp.len + 1, body, body_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), self->secret, (int)self->secret_len, joined, total, mac, &mac_len);
    free(joined);
    hex_encode(mac, mac_len, out_hex);
    return 1;
}

/* ---- descriptor -------------------------------------------------------------- */

static const bsp_config_key config_keys[] = {
    { "url", BSP_CONFIG_URL, BSP_CONFIG_REQUIRED,
      "Where to POST messages, e.g. http://127.0.0.1:9000/echo", NULL },
    { "secret", BSP_CONFIG_STRING, BSP_CONFIG_REQUIRED | BSP_CONFIG_SECRET,
      "HMAC-SHA256 key for requests and webhooks", NULL },
};

static const char *const interfaces[] = { BSP_SENDER_V1, BSP_WEBHOOK_V1 };

static const bsp_descriptor descriptor = {
    sizeof(bsp_descriptor),
    "echo-c",
    "Echo (C example)",
    "1.0.0",
    "POSTs messages as signed JSON to a URL; the example of the C ABI",
    BSP_CHANNEL_EMAIL | BSP_CHANNEL_SMS | BSP_CHANNEL_WEBHOOK,
    100,
    config_keys, sizeof config_keys / sizeof config_keys[0],
    interfaces, sizeof interfaces / sizeof interfaces[0],
    /* ABI 1.1: an echo server publishes no rate, so 0 and the host uses its
     * own default. A provider that has one names it, e.g. 14 with
     * BSP_RATE_MESSAGES_PER_SECOND (SES), or 2 with
     * BSP_RATE_REQUESTS_PER_SECOND (Resend, a batch being one request). */
    0, BSP_RATE_MESSAGES_PER_SECOND,
    /* ABI 1.2: no BSP_FEATURE_ATTACHMENTS, so the host never hands this
     * example a message with files (and it refuses one, should another host). */
    0,
};

/* ---- create / destroy ------------------------------------------------------- */

static void echo_destroy(bsp_instance *self) {
    if (!self) return;
    free(self->url);
    if (self->secret) OPENSSL_cleanse(self->secret, self->secret_len);
    free(self->secret);
    free(self);
}

static int is_http_url(bsp_str url) {
    const char *rest = NULL;
    size_t skip = 0;
    if (url.len > 7 && memcmp(url.ptr, "http://", 7) == 0) skip = 7;
    else if (url.len > 8 && memcmp(url.ptr, "https://", 8) == 0) skip = 8;
    else return 0;
    rest = url.ptr + skip;
    return rest[0] != '/' && rest[0] != ':';
}

static bsp_status echo_create(bsp_call *call, const bsp_config *config, bsp_instance **out) {
    if (!out) return fail(call, BSP_E_INVALID_ARGUMENT, "out_instance", "out_instance is NULL");
    *out = NULL;
    const bsp_str *url = NULL, *secret = NULL;
    if (config) {
        for (size_t i = 0; i < config->entries.count; i++) {
            const bsp_pair *entry = &config->entries.items[i];
            if (str_equals(entry->name, "url")) url = &entry->value;
            else if (str_equals(entry->name, "secret")) secret = &entry->value;
            else {
                char field[80];
                int n = entry->name.len < 60 ? (int)entry->name.len : 60;
                snprintf(field, sizeof field, "config.%.*s", n, entry->name.ptr ? entry->name.ptr : "");
                return fail(call, BSP_E_CONFIG, field, "unknown key; this plugin accepts: url, secret");
            }
        }
    }
    if (!url) return fail(call, BSP_E_CONFIG, "config.url", "required key is missing");
    if (!is_http_url(*url)) return fail(call, BSP_E_CONFIG, "config.url", "must be an absolute http(s) URL");
    if (!secret || secret->len == 0) return fail(call, BSP_E_CONFIG, "config.secret", "required key is missing");

    bsp_instance *self = calloc(1, sizeof *self);
    if (!self) return fail(call, BSP_E_INTERNAL, "", "out of memory");
    self->url = malloc(url->len + 1);
    self->secret = malloc(secret->len);
    if (!self->url || !self->secret) {
        echo_destroy(self);
        return fail(call, BSP_E_INTERNAL, "", "out of memory");
    }
    memcpy(self->url, url->ptr, url->len);
    self->url[url->len] = '\0';
    memcpy(self->secret, secret->ptr, secret->len);
    self->secret_len = secret->len;
    *out = self;
    return BSP_OK;
}

/* ---- sender ------------------------------------------------------------------ */

static const char *channel_name(uint32_t channel) {
    switch (channel) {
    case BSP_CHANNEL_EMAIL: return "email";
    case BSP_CHANNEL_SMS: return "sms";
    case BSP_CHANNEL_WEBHOOK: return "webhook";
    default: return NULL;
    }
}

static bsp_status echo_prepare(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count) {
    if (!self || !call) return BSP_E_INVALID_ARGUMENT;
    if (!messages || count == 0 || count > descriptor.max_batch)
        return fail(call, BSP_E_INVALID_ARGUMENT, "messages", "between 1 and 100 messages are accepted");

    uint32_t *carried = malloc(count * sizeof *carried);
    if (!carried) return fail(call, BSP_E_INTERNAL, "", "out of memory");
    size_t carried_count = 0;
    bsp_status status = BSP_OK;
    buffer body = { 0 };
    buf_raw(&body, "{\"messages\":[");
    for (size_t i = 0; i < count; i++) {
        const bsp_message *m = messages[i];
        const char *channel = m ? channel_name(m->channel) : NULL;
        if (!channel) {
            status = fail(call, BSP_E_INVALID_ARGUMENT, "messages", "a message is NULL or has an unknown channel");
            goto done;
        }
        if (m->to.count == 0 && m->channel != BSP_CHANNEL_WEBHOOK) {
            char text[64];
            snprintf(text, sizeof text, "messages[%zu].to is empty", i);
            bsp_outcome refused = { sizeof(bsp_outcome), (uint32_t)i, BSP_OUTCOME_PERMANENT, -1,
                                    { NULL, 0 }, cstr("invalid_recipient"), cstr(text) };
            status = call->emit_outcome(call, &refused);
            if (status != BSP_OK) goto done;
            continue;
        }
        /* 1.2: this example does not send files. A host's message of an older minor ends before the field. */
        int has_attachments = m->struct_size >= offsetof(bsp_message, attachments) + sizeof m->attachments
                              && m->attachments.count > 0;
        if (has_attachments) {
            char text[96];
            snprintf(text, sizeof text, "messages[%zu]: the echo plugin sends no attachments", i);
            bsp_outcome declined = { sizeof(bsp_outcome), (uint32_t)i, BSP_OUTCOME_PERMANENT, -1,
                                     { NULL, 0 }, cstr("attachments_unsupported"), cstr(text) };
            status = call->emit_outcome(call, &declined);
            if (status != BSP_OK) goto done;
            continue;
        }
        if (carried_count > 0) buf_raw(&body, ",");
        carried[carried_count++] = (uint32_t)i;
        buf_raw(&body, "{\"id\":");
        buf_json_string(&body, m->id);
        buf_raw(&body, ",\"idempotency_key\":");
        buf_json_string(&body, m->idempotency_key);
        buf_raw(&body, ",\"channel\":");
        buf_json_string(&body, cstr(channel));
        buf_raw(&body, ",\"to\":");
        buf_json_list(&body, m->to);
        buf_raw(&body, ",\"cc\":");
        buf_json_list(&body, m->cc);
        buf_raw(&body, ",\"bcc\":");
        buf_json_list(&body, m->bcc);
        buf_raw(&body, ",\"subject\":");
        buf_json_string(&body, m->subject);
        buf_raw(&body, ",\"text\":");
        buf_json_string(&body, m->text);
        buf_raw(&body, ",\"payload\":");
        buf_json_string(&body, m->payload);
        buf_raw(&body, "}");
    }
    buf_raw(&body, "]}");
    if (body.failed) { status = fail(call, BSP_E_INTERNAL, "", "out of memory"); goto done; }
    if (carried_count == 0) goto done;

    char timestamp[24], signature[3 + 65];
    snprintf(timestamp, sizeof timestamp, "%lld", (long long)(call->host->now_ms(call) / 1000));
    memcpy(signature, "v1=", 3);
    if (!sign(self, cstr(timestamp), (const uint8_t *)body.data, body.len, signature + 3)) {
        status = fail(call, BSP_E_INTERNAL, "", "out of memory");
        goto done;
    }
    bsp_pair headers[5] = {
        { cstr("content-type"), cstr("application/json") },
        { cstr("user-agent"), cstr("batchsender-echo/1.0") },
        { cstr("x-echo-timestamp"), cstr(timestamp) },
        { cstr("x-echo-signature"), cstr(signature) },
        { cstr("idempotency-key"), { NULL, 0 } },
    };
    size_t header_count = 4;
    if (carried_count == 1) {
        headers[4].value = messages[carried[0]]->idempotency_key;
        header_count = 5;
    }
    bsp_http_request request = {
        sizeof(bsp_http_request), cstr("POST"), cstr(self->url), { headers, header_count },
        { (const uint8_t *)body.data, body.len }, carried, carried_count,
    };
    status = call->emit_request(call, &request);
done:
    free(body.data);
    free(carried);
    return status;
}

static bsp_status echo_interpret(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count,
                                 const bsp_http_response *response) {
    if (!self || !call) return BSP_E_INVALID_ARGUMENT;
    if (!messages || !response || count == 0 || count > descriptor.max_batch)
        return fail(call, BSP_E_INVALID_ARGUMENT, "messages", "messages and response are required");
    for (size_t i = 0; i < count; i++) {
        if (!messages[i]) return fail(call, BSP_E_INVALID_ARGUMENT, "messages", "a message is NULL");
        char code[32] = "", text[64] = "", id[300] = "";
        bsp_outcome outcome = { sizeof(bsp_outcome), (uint32_t)i, BSP_OUTCOME_PERMANENT, -1,
                                { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
        int status = response->status;
        if (response->transport != BSP_TRANSPORT_OK) {
            static const char *names[] = { "ok", "timeout", "connect", "tls", "io", "other" };
            int t = response->transport >= 1 && response->transport <= 5 ? response->transport : 5;
            snprintf(code, sizeof code, "transport_%s", names[t]);
            outcome.kind = BSP_OUTCOME_RETRYABLE;
            outcome.message = response->transport_message;
        } else if (status >= 200 && status <= 299) {
            bsp_str key = messages[i]->idempotency_key;
            size_t n = key.len < sizeof id - 6 ? key.len : sizeof id - 6;
            memcpy(id, "echo-", 5);
            if (n) memcpy(id + 5, key.ptr, n);
            id[5 + n] = '\0';
            outcome.kind = BSP_OUTCOME_ACCEPTED;
            outcome.provider_message_id = cstr(id);
        } else {
            snprintf(code, sizeof code, "%d", status);
            snprintf(text, sizeof text, "HTTP %d", status);
            outcome.message = cstr(text);
            if (status == 429 || status == 408 || (status >= 500 && status <= 599)) {
                /* Retry-After: delta-seconds, or an HTTP date read against the host's clock. */
                const bsp_str *after = find_header(response->headers, "retry-after");
                int64_t seconds, date;
                /* 429 is the server's rate, not the message: throttled, which
                 * spends no attempt, for a host that knows the kind (1.1). */
                outcome.kind = status == 429 && host_minor >= 1 ? BSP_OUTCOME_THROTTLED : BSP_OUTCOME_RETRYABLE;
                /* Bounded as the Swift SDK's retryAfterMs: 0 to a day, whatever the header says. */
                int parsed = after ? parse_bounded(*after, INT64_MIN, INT64_MAX, &seconds) : PARSE_NOT_INTEGER;
                if (parsed == PARSE_OK) {
                    outcome.retry_after_ms = seconds <= 0 ? 0 : seconds >= ECHO_MAX_RETRY_AFTER_MS / 1000 ? ECHO_MAX_RETRY_AFTER_MS : seconds * 1000;
                } else if (parsed == PARSE_OUT_OF_RANGE) {
                    outcome.retry_after_ms = after->ptr[0] == '-' ? 0 : ECHO_MAX_RETRY_AFTER_MS;
                } else if (after && parse_http_date(*after, &date)) {
                    /* date * 1000 is at most ~2.5e14 (year 9999); the host clock is a time like it. */
                    int64_t wait = date * 1000 - call->host->now_ms(call);
                    outcome.retry_after_ms = wait <= 0 ? 0 : wait > ECHO_MAX_RETRY_AFTER_MS ? ECHO_MAX_RETRY_AFTER_MS : wait;
                }
            }
        }
        outcome.code = cstr(code);
        bsp_status emitted = call->emit_outcome(call, &outcome);
        if (emitted != BSP_OK) return emitted;
    }
    return BSP_OK;
}

static const bsp_sender_v1 sender = { sizeof(bsp_sender_v1), echo_prepare, echo_interpret };

/* ---- webhook ----------------------------------------------------------------- */

static bsp_status echo_verify(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    if (!self || !call || !request) return BSP_E_INVALID_ARGUMENT;
    const bsp_str *timestamp = find_header(request->headers, "x-echo-timestamp");
    const bsp_str *signature = find_header(request->headers, "x-echo-signature");
    if (!timestamp)
        return fail(call, BSP_E_SIGNATURE_MISSING, "header:x-echo-timestamp", "the x-echo-timestamp header is missing");
    if (!signature)
        return fail(call, BSP_E_SIGNATURE_MISSING, "header:x-echo-signature", "the x-echo-signature header is missing");
    int64_t seconds;
    int parsed = parse_bounded(*timestamp, INT64_MIN, INT64_MAX, &seconds);
    if (parsed == PARSE_NOT_INTEGER)
        return fail(call, BSP_E_SIGNATURE_ENCODING, "header:x-echo-timestamp", "not a whole number of seconds");
    if (parsed == PARSE_OUT_OF_RANGE)
        return fail(call, BSP_E_SIGNATURE_EXPIRED, "header:x-echo-timestamp", "timestamp is out of any range; the tolerance is 300 s");
    /* The header is an attacker's: compared without the subtraction that overflows at INT64_MIN. */
    int64_t now = call->host->now_ms(call) / 1000;
    uint64_t gap = distance(now, seconds);
    if (gap > ECHO_TOLERANCE_SECONDS) {
        char text[96];
        snprintf(text, sizeof text, "timestamp is %llu s %s; the tolerance is %d s",
                 (unsigned long long)gap, seconds < now ? "old" : "in the future", ECHO_TOLERANCE_SECONDS);
        return fail(call, BSP_E_SIGNATURE_EXPIRED, "header:x-echo-timestamp", text);
    }
    unsigned char received[32];
    if (signature->len != 3 + 64 || memcmp(signature->ptr, "v1=", 3) != 0)
        return fail(call, BSP_E_SIGNATURE_ENCODING, "header:x-echo-signature", "expected v1= and 64 hex digits");
    for (size_t i = 0; i < 32; i++) {
        int high = hex_value(signature->ptr[3 + 2 * i]), low = hex_value(signature->ptr[4 + 2 * i]);
        if (high < 0 || low < 0)
            return fail(call, BSP_E_SIGNATURE_ENCODING, "header:x-echo-signature", "expected v1= and 64 hex digits");
        received[i] = (unsigned char)(high << 4 | low);
    }
    char expected_hex[65];
    unsigned char expected[32];
    if (!sign(self, *timestamp, request->body.ptr, request->body.len, expected_hex))
        return fail(call, BSP_E_INTERNAL, "", "out of memory");
    for (size_t i = 0; i < 32; i++)
        expected[i] = (unsigned char)(hex_value(expected_hex[2 * i]) << 4 | hex_value(expected_hex[2 * i + 1]));
    if (CRYPTO_memcmp(expected, received, 32) != 0)
        return fail(call, BSP_E_SIGNATURE_INVALID, "header:x-echo-signature",
                    "the signature does not match the body and secret");
    return BSP_OK;
}

static int32_t event_type(bsp_str name, int32_t *bounce) {
    static const struct { const char *name; int32_t type; } types[] = {
        { "queued", BSP_EVENT_QUEUED }, { "sent", BSP_EVENT_SENT }, { "delivered", BSP_EVENT_DELIVERED },
        { "deferred", BSP_EVENT_DEFERRED }, { "complained", BSP_EVENT_COMPLAINED },
        { "rejected", BSP_EVENT_REJECTED }, { "failed", BSP_EVENT_FAILED }, { "opened", BSP_EVENT_OPENED },
        { "clicked", BSP_EVENT_CLICKED }, { "unsubscribed", BSP_EVENT_UNSUBSCRIBED }, { "unknown", BSP_EVENT_UNKNOWN },
    };
    *bounce = BSP_BOUNCE_NONE;
    if (str_equals(name, "bounced")) { *bounce = BSP_BOUNCE_HARD; return BSP_EVENT_BOUNCED; }
    if (str_equals(name, "soft_bounced")) { *bounce = BSP_BOUNCE_SOFT; return BSP_EVENT_BOUNCED; }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (str_equals(name, types[i].name)) return types[i].type;
    return BSP_EVENT_UNKNOWN;
}

/* Body: one event a line, "event_id type provider_message_id recipient unix_ms". */
static bsp_status echo_parse(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    if (!self || !call || !request) return BSP_E_INVALID_ARGUMENT;
    const char *body = (const char *)request->body.ptr;
    size_t len = request->body.len, start = 0, line_number = 0, emitted = 0;
    while (start <= len && body) {
        size_t end = start, next;
        while (end < len && body[end] != '\n') end++;
        next = end + 1;
        /* Trailing spaces, tabs and a CR (CRLF line ends) are not part of the event. */
        while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t' || body[end - 1] == '\r')) end--;
        line_number++;
        if (end > start) {
            bsp_str fields[5];
            size_t field_count = 0, cursor = start;
            while (cursor <= end && field_count < 6) {
                size_t field_end = cursor;
                while (field_end < end && body[field_end] != ' ') field_end++;
                if (field_count < 5) {
                    fields[field_count].ptr = body + cursor;
                    fields[field_count].len = field_end - cursor;
                }
                field_count++;
                cursor = field_end + 1;
            }
            int64_t milliseconds;
            /* Bounded to 1970..9999 (the Swift SDK's EventTimestamp.range): a time the host can store. */
            if (field_count != 5 || parse_bounded(fields[4], 0, ECHO_LATEST_EVENT_MS, &milliseconds) != PARSE_OK) {
                char field[48];
                snprintf(field, sizeof field, "body:line %zu", line_number);
                return fail(call, BSP_E_MALFORMED, field, ECHO_LINE_FORMAT);
            }
            buffer raw = { 0 };
            bsp_str line = { body + start, end - start };
            buf_json_string(&raw, line);
            if (raw.failed) { free(raw.data); return fail(call, BSP_E_INTERNAL, "", "out of memory"); }
            bsp_event event;
            memset(&event, 0, sizeof event);
            event.struct_size = sizeof event;
            event.type = event_type(fields[1], &event.bounce_class);
            event.timestamp_ms = milliseconds;
            event.event_id = fields[0];
            event.provider_message_id = fields[2];
            event.recipient = fields[3];
            event.raw.ptr = raw.data;
            event.raw.len = raw.len;
            bsp_status status = call->emit_event(call, &event);
            free(raw.data);
            if (status != BSP_OK) return status;
            emitted++;
        }
        start = next;
    }
    if (emitted == 0) return fail(call, BSP_E_MALFORMED, "body", "no events: a webhook carries at least one line");
    return BSP_OK;
}

static const bsp_webhook_v1 webhook = { sizeof(bsp_webhook_v1), echo_verify, echo_parse };

/* ---- entry ------------------------------------------------------------------- */

static const void *echo_get_interface(const char *id) {
    if (!id) return NULL;
    if (strcmp(id, BSP_SENDER_V1) == 0) return &sender;
    if (strcmp(id, BSP_WEBHOOK_V1) == 0) return &webhook;
    return NULL;
}

static const bsp_plugin plugin = {
    sizeof(bsp_plugin), BSP_ABI_MAJOR, BSP_ABI_MINOR, &descriptor,
    echo_create, echo_destroy, echo_get_interface,
};

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    if (host_abi_major != BSP_ABI_MAJOR) return NULL;
    /* What this plugin may emit depends on the host's minor (entry.h). The
     * entry function runs alone, before any other call: no lock needed. */
    host_minor = host_abi_minor;
    return &plugin;
}
