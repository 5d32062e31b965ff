/* Serves only ABI major 2: answers NULL to a major-1 host. */
#include "minimal.h"
BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), 2, 0, &fixture_descriptor, fixture_create, fixture_destroy, NULL };
    (void)minor;
    return major == 2 ? &table : NULL;
}
