/*
 * batchsender/status.h — the one error vocabulary of the ABI.
 *
 * Every plugin function returns a bsp_status. BSP_OK is success; every other
 * value names the decision the host must take. Detail (which field, why)
 * travels through bsp_call.set_error on the same call, never through globals
 * or thread-local storage: Swift tasks and worker pools hop threads.
 *
 * A host must treat a value it does not know as BSP_E_INTERNAL: new codes
 * may be added in a minor version, none is ever renumbered.
 */
#ifndef BATCHSENDER_STATUS_H
#define BATCHSENDER_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t bsp_status;

/* Success. For verify: the signature is valid. */
#define BSP_OK                     0
/* The host broke the contract: a NULL where a value is required, zero
 * messages, more than max_batch messages, an index out of range. A host bug;
 * retrying the same call cannot help. */
#define BSP_E_INVALID_ARGUMENT     1
/* The configuration is refused: a required key is missing, a value has the
 * wrong type or format, a key is unknown. set_error names the key. Fix the
 * send-config; no instance was created. */
#define BSP_E_CONFIG               2
/* The plugin does not offer this: an interface it does not serve, a channel
 * it does not send on, a message feature its provider lacks. */
#define BSP_E_UNSUPPORTED          3
/* An input document cannot be read: a webhook body that is not the
 * provider's format, a message the plugin cannot encode. set_error says where. */
#define BSP_E_MALFORMED            4
/* verify: a header the signature scheme needs is absent (set_error names it). */
#define BSP_E_SIGNATURE_MISSING    5
/* verify: the signature does not match the body, the id or the secret. */
#define BSP_E_SIGNATURE_INVALID    6
/* verify: the signed timestamp is outside the tolerance, too old or in the
 * future (set_error says which and by how much). Clocks or replays. */
#define BSP_E_SIGNATURE_EXPIRED    7
/* verify: a signature, key or timestamp is not in its documented encoding
 * (bad base64, hex, or number). */
#define BSP_E_SIGNATURE_ENCODING   8
/* The plugin asked the host to fetch a document (bsp_host.fetch answered
 * BSP_E_PENDING) and cannot finish without it. The host fetches, then makes
 * the same call again; nothing was emitted that the host must keep. */
#define BSP_E_PENDING              9
/* Refused by policy: a certificate URL outside the allowed hosts, a topic not
 * in the allow-list, a fetch the host's allow-list denies. */
#define BSP_E_FORBIDDEN           10
/* The plugin failed for a reason of its own (out of memory, a bug). The host
 * logs it with set_error's message and treats the work as retryable. */
#define BSP_E_INTERNAL            11

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_STATUS_H */
