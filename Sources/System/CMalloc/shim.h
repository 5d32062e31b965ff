/* glibc's heap statistics (mallinfo2), which Swift's Glibc module leaves out:
 * the conformance suite's leak check reads the bytes in use before and after. */
#include <malloc.h>
