/* A shared object that exports something, but not the entry function. */
int batchsender_plugin_entrypoint(void) { return 1; }
