/*
 * batchsender/http.h — HTTP exchanged between plugin and host as plain data.
 *
 * A plugin never opens a socket. It describes requests (bsp_http_request),
 * the host sends them with its own client (pool, TLS, timeouts, retries,
 * rate limits) and hands back what happened (bsp_http_response). Inbound
 * webhooks arrive as bsp_inbound_request.
 */
#ifndef BATCHSENDER_HTTP_H
#define BATCHSENDER_HTTP_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A request the plugin wants sent. Emitted through bsp_call.emit_request;
 * every view is the plugin's and needs to live only until emit_request
 * returns (the host copies it). */
typedef struct bsp_http_request {
    uint32_t struct_size;
    /* Upper-case token: "POST", "GET", "PUT", "PATCH", "DELETE". */
    bsp_str method;
    /* Absolute URL, e.g. "https://api.resend.com/emails/batch". */
    bsp_str url;
    /* Header names must be HTTP tokens; values must not contain CR, LF or
     * NUL. The host refuses a request that breaks this (header injection). */
    bsp_pair_list headers;
    bsp_bytes body;
    /* Which of the messages passed to prepare this request carries, as
     * indices into that array, e.g. {0,1,2} for one batch call. */
    const uint32_t *message_indices;
    size_t message_count;
} bsp_http_request;

/* Why a request got no HTTP response. */
#define BSP_TRANSPORT_OK          0 /* a response arrived; see status */
#define BSP_TRANSPORT_TIMEOUT     1 /* connect or total timeout */
#define BSP_TRANSPORT_CONNECT     2 /* refused, unreachable, DNS failure */
#define BSP_TRANSPORT_TLS         3 /* handshake or certificate failure */
#define BSP_TRANSPORT_IO          4 /* the connection broke mid-exchange */
#define BSP_TRANSPORT_OTHER       5

/* What came back for one bsp_http_request. Owned by the host; valid until the
 * interpret call it was passed to returns. */
typedef struct bsp_http_response {
    uint32_t struct_size;
    /* One of BSP_TRANSPORT_*. When not BSP_TRANSPORT_OK, status is 0, there
     * are no headers and no body, and transport_message says what failed.
     * Whether the provider acted on the request is unknown. */
    int32_t transport;
    bsp_str transport_message;
    /* HTTP status, e.g. 200, 429. */
    int32_t status;
    /* Names lower-case, in arrival order; a name may repeat. */
    bsp_pair_list headers;
    bsp_bytes body;
} bsp_http_response;

/* An inbound webhook request, as the host's HTTP server received it. Owned by
 * the host; valid until the verify or parse call it was passed to returns. */
typedef struct bsp_inbound_request {
    uint32_t struct_size;
    bsp_str method;
    /* Path and query as received, e.g. "/webhooks/resend". */
    bsp_str path;
    /* Names lower-case, in arrival order; a name may repeat. */
    bsp_pair_list headers;
    /* The exact bytes received: signatures are computed over these. */
    bsp_bytes body;
} bsp_inbound_request;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_HTTP_H */
