/* The ABI is header-only; SwiftPM needs one source file per C target. */
#include "batchsender/plugin.h"
