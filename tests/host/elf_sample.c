/*
 * elf_sample.c - a tiny freestanding program that test_elf links, with the
 * host toolchain's default layout, into real ELF files (64-bit executable,
 * 32-bit executable, shared object) to check common/elf.c against what a
 * real linker writes. Never run. It has text, read-only data, data and bss
 * so that every usual kind of PT_LOAD appears.
 */
int sample_counter = 1;
static char sample_bss[0x3000];
static const char sample_message[] = "pagelab";

void _start(void)
{
    for (;;) {
        sample_counter += sample_message[sample_counter & 3];
        sample_bss[sample_counter & 0xFFF]++;
        __asm__ volatile("" ::: "memory");
    }
}
