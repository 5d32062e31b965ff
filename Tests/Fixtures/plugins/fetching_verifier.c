/* A webhook verifier that needs a document from the host's fetch service: the
 * request is authentic when its body equals the document at the URL named in
 * the x-document header (how SNS verification fetches its certificate). */
#include "minimal.h"

static bsp_status fetch_verify(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    (void)self;
    bsp_str url = { NULL, 0 };
    for (size_t i = 0; i < request->headers.count; i++)
        if (request->headers.items[i].name.len == 10 && memcmp(request->headers.items[i].name.ptr, "x-document", 10) == 0)
            url = request->headers.items[i].value;
    if (!url.len) {
        call->set_error(call, fixture_str("header:x-document"), fixture_str("missing"));
        return BSP_E_SIGNATURE_MISSING;
    }
    bsp_bytes document;
    bsp_status status = call->host->fetch(call, url, &document);
    if (status != BSP_OK) return status;
    if (document.len != request->body.len || memcmp(document.ptr, request->body.ptr, document.len) != 0) {
        call->set_error(call, fixture_str("body"), fixture_str("body differs from the fetched document"));
        return BSP_E_SIGNATURE_INVALID;
    }
    return BSP_OK;
}

static bsp_status no_parse(bsp_instance *self, bsp_call *call, const bsp_inbound_request *request) {
    (void)self; (void)call; (void)request;
    return BSP_OK;
}

static const bsp_webhook_v1 webhook = { sizeof(bsp_webhook_v1), fetch_verify, no_parse };
static const void *get_interface(const char *id) { return strcmp(id, BSP_WEBHOOK_V1) == 0 ? &webhook : NULL; }

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), BSP_ABI_MAJOR, 0, &fixture_descriptor, fixture_create, fixture_destroy, get_interface };
    (void)minor;
    return major == BSP_ABI_MAJOR ? &table : NULL;
}
