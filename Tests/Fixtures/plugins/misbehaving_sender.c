/* A sender that breaks the contract in ways the host must catch:
 * prepare emits a header with CR LF in its value (header injection);
 * interpret reports one outcome whatever the number of messages. */
#include "minimal.h"

static bsp_status bad_prepare(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count) {
    (void)self; (void)messages;
    uint32_t indices[10];
    for (size_t i = 0; i < count && i < 10; i++) indices[i] = (uint32_t)i;
    bsp_pair headers[1] = { { fixture_str("x-subject"), fixture_str("hi\r\nBcc: victim@example.org") } };
    bsp_http_request request = { sizeof(bsp_http_request), fixture_str("POST"), fixture_str("https://example.org/"),
                                 { headers, 1 }, { NULL, 0 }, indices, count };
    return call->emit_request(call, &request);
}

static bsp_status bad_interpret(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count,
                                const bsp_http_response *response) {
    (void)self; (void)messages; (void)count; (void)response;
    bsp_outcome outcome = { sizeof(bsp_outcome), 0, BSP_OUTCOME_ACCEPTED, -1, fixture_str("id-1"), { NULL, 0 }, { NULL, 0 } };
    return call->emit_outcome(call, &outcome);
}

static const bsp_sender_v1 sender = { sizeof(bsp_sender_v1), bad_prepare, bad_interpret };
static const void *get_interface(const char *id) { return strcmp(id, BSP_SENDER_V1) == 0 ? &sender : NULL; }

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), BSP_ABI_MAJOR, 0, &fixture_descriptor, fixture_create, fixture_destroy, get_interface };
    (void)minor;
    return major == BSP_ABI_MAJOR ? &table : NULL;
}
