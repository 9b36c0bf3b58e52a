/* lib.h - memcpy and friends: the shared freestanding set (common/mem.h). */
#ifndef STAGE2_LIB_H
#define STAGE2_LIB_H
#include "../common/mem.h"
#endif
