/* A sender that puts each message in a request of its own and whose interpret breaks the contract
 * (no outcome at all) for an answer with status 502: the host must keep the other requests'
 * outcomes and report only that request's messages as failed. */
#include "minimal.h"
#include <stdio.h>

static bsp_status split_prepare(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count) {
    (void)self; (void)messages;
    for (size_t i = 0; i < count; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.org/%zu", i);
        uint32_t index = (uint32_t)i;
        bsp_http_request request = { sizeof(bsp_http_request), fixture_str("POST"), fixture_str(url),
                                     { NULL, 0 }, { NULL, 0 }, &index, 1 };
        bsp_status status = call->emit_request(call, &request);
        if (status != BSP_OK) return status;
    }
    return BSP_OK;
}

static bsp_status picky_interpret(bsp_instance *self, bsp_call *call, const bsp_message *const *messages, size_t count,
                                  const bsp_http_response *response) {
    (void)self; (void)messages; (void)count;
    if (response->status == 502) return BSP_OK;
    bsp_outcome outcome = { sizeof(bsp_outcome), 0, BSP_OUTCOME_ACCEPTED, -1, fixture_str("id"), { NULL, 0 }, { NULL, 0 } };
    return call->emit_outcome(call, &outcome);
}

static const bsp_sender_v1 sender = { sizeof(bsp_sender_v1), split_prepare, picky_interpret };
static const void *get_interface(const char *id) { return strcmp(id, BSP_SENDER_V1) == 0 ? &sender : NULL; }

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), BSP_ABI_MAJOR, 0, &fixture_descriptor, fixture_create, fixture_destroy, get_interface };
    (void)minor;
    return major == BSP_ABI_MAJOR ? &table : NULL;
}
