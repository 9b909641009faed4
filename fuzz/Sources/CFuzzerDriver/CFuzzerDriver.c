// Declarations only (include/CFuzzerDriver.h); libFuzzer, linked by -sanitize=fuzzer, defines them.
#include "CFuzzerDriver.h"
