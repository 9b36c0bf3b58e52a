/* console.h - the kernel's console is the shared one (common/console.h). */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include "../common/console.h"
#endif
