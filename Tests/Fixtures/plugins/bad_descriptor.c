/* A descriptor whose id breaks the documented form. */
#include "minimal.h"
static const bsp_descriptor bad = {
    sizeof(bsp_descriptor), "Not An Id!", "Bad", "0.0.1", "", BSP_CHANNEL_EMAIL, 10, NULL, 0, NULL, 0,
};
static const void *no_interface(const char *id) { (void)id; return NULL; }
BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t major, uint32_t minor) {
    static const bsp_plugin table = { sizeof(bsp_plugin), BSP_ABI_MAJOR, 0, &bad, fixture_create, fixture_destroy, no_interface };
    (void)major; (void)minor;
    return &table;
}
