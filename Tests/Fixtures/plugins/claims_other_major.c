/* Answers any host with a table that says ABI major 7. */
#include "minimal.h"
static const void *no_interface(const char *id) { (void)id; return NULL; }
BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), 7, 0, &fixture_descriptor, fixture_create, fixture_destroy, no_interface };
    (void)major; (void)minor;
    return &table;
}
