/* lib.h - memcpy and friends: the shared freestanding set (common/mem.h). */
#ifndef KERNEL_LIB_H
#define KERNEL_LIB_H
#include "../common/mem.h"
#endif
