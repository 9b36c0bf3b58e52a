/*
 * report.c - the boot report (see report.h). Timestamps are TSC values
 * from stage1, stage2 and the jump to the kernel; the TSC rate is measured
 * against the PIT (8254, channel 2, gate through port 0x61) so the report
 * can say milliseconds.
 */
#include <stdint.h>
#include "report.h"
#include "lowmem.h"
#include "kernel_note.h"
#include "console.h"
#include "modules.h"
#include "../common/io.h"
#include "layout.h"

#define PIT_HZ          1193182       /* 8254 input clock */
#define PIT_CH2_DATA    0x42
#define PIT_COMMAND     0x43
#define PIT_CH2_MODE0   0xB0          /* channel 2, lo/hi byte, mode 0, binary */
#define PIT_CH2_LATCH   0x80          /* channel 2, counter latch command */
#define PIT_FULL_COUNT  0xFFFF        /* 55 ms of PIT input clock */
#define PORT_B          0x61          /* bit 0: channel 2 gate, bit 5: channel 2 output */
#define CALIBRATE_TICKS 1193          /* 1 ms of PIT input clock: 0.1% is plenty here */
#define SPIN_LIMIT      100000000ULL

static const char *const type_names[] = {
    [MEM_USABLE] = "usable", [MEM_RESERVED] = "reserved", [MEM_ACPI_RECLAIM] = "ACPI reclaim",
    [MEM_ACPI_NVS] = "ACPI NVS", [MEM_BAD] = "bad", [6] = "type 6", [MEM_PERSISTENT] = "persistent",
};
/* include/kernel_note.h: the names stage2 prints too */
static const char *const strategy_names[] = PAGELAB_STRATEGY_NAMES;

static void stop(const char *why)
{
    kprintf("pagelab kernel: error: %s\npagelab: halted\n", why);
    halt_with(DEBUG_EXIT_STOPPED);
}

void report_check_boot_info(const struct boot_info *bi)
{
    if (bi->magic != BOOT_INFO_MAGIC)
        stop("BootInfo has the wrong magic: this kernel was not started by pagelab's stage2");
    /* version 1 is a loader from before boot modules (its BootInfo ends
     * at map[]): said by name, as it is the mismatch one meets when a new
     * kernel is copied onto an old image with mcopy */
    if (bi->version == 1)
        stop("BootInfo version 1: the loader predates boot modules (BootInfo v2): rebuild "
             "the image (make image) so that its stage2 matches this kernel");
    if (bi->version != BOOT_INFO_VERSION || bi->size != sizeof(*bi)) {
        kprintf("pagelab kernel: BootInfo version %u size %u, kernel expects version %u size %u\n",
                bi->version, bi->size, BOOT_INFO_VERSION, (unsigned)sizeof(*bi));
        stop("BootInfo version mismatch: rebuild the loader and the kernel together");
    }
    if (bi->strategy != PAGELAB_STRATEGY)
        stop("the loader built page tables for another strategy than this kernel's: "
             "its pagelab note is missing or names another (kernel/boot_note.c)");
}

/* Channel 2 counts down from `count` in mode 0 (one-shot: its output,
 * port 0x61 bit 5, goes high at zero). Gate on, speaker off. */
static void pit_ch2_start(unsigned count)
{
    outb(PORT_B, (uint8_t)((inb(PORT_B) & ~0x02) | 0x01));
    outb(PIT_COMMAND, PIT_CH2_MODE0);
    outb(PIT_CH2_DATA, (uint8_t)(count & 0xFF));
    outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
}

/* Channel 2's current count, latched so that both bytes belong together. */
static unsigned pit_ch2_read(void)
{
    outb(PIT_COMMAND, PIT_CH2_LATCH);
    unsigned lo = inb(PIT_CH2_DATA);
    return lo | (unsigned)inb(PIT_CH2_DATA) << 8;
}

static uint64_t clock_tsc0; /* TSC when report_clock_start loaded channel 2 */

/* noinline: it is kmain's first statement, and inlined (with LTO) its port
 * I/O would be the first line gdb finds in kmain, so `break kmain` would
 * report common/io.h instead of kernel/main.c. */
__attribute__((noinline)) void report_clock_start(void)
{
    pit_ch2_start(PIT_FULL_COUNT);
    clock_tsc0 = rdtsc();
}

/*
 * TSC ticks per millisecond. Channel 2 has been counting since
 * report_clock_start, so the boot's own work is the calibration interval
 * and nothing waits (a 1 ms busy wait was 3% of the boot); only if that
 * was under CALIBRATE_TICKS does it wait for the rest. If the count ran
 * out (slow emulators such as Bochs take over 55 ms to get here), one
 * fresh 1 ms one-shot instead.
 */
static uint64_t tsc_per_ms(void)
{
    uint64_t now = rdtsc();
    unsigned elapsed = PIT_FULL_COUNT - pit_ch2_read();
    for (uint64_t i = 0; i < SPIN_LIMIT && elapsed < CALIBRATE_TICKS; i++) {
        now = rdtsc();
        elapsed = PIT_FULL_COUNT - pit_ch2_read();
    }
    uint64_t start = clock_tsc0;
    if (!clock_tsc0 || (inb(PORT_B) & 0x20)) {
        pit_ch2_start(CALIBRATE_TICKS);
        start = rdtsc();
        for (uint64_t i = 0; i < SPIN_LIMIT && !(inb(PORT_B) & 0x20); i++)
            ;
        now = rdtsc();
        elapsed = CALIBRATE_TICKS;
    }
    uint64_t per_ms = (now - start) * PIT_HZ / elapsed / 1000;
    return per_ms ? per_ms : 1;
}

static void report_map(const struct boot_info *bi)
{
    uint64_t totals[8] = { 0 };
    kprintf("memory map (sanitised, %u entries; raw: %u):\n", bi->map_count, bi->raw_count);
    kprintf("  %-18s %-18s %10s  %s\n", "start", "end", "KiB", "type");
    for (uint32_t i = 0; i < bi->map_count; i++) {
        const struct mem_region *m = &bi->map[i];
        const char *name = m->type < 8 && type_names[m->type] ? type_names[m->type] : "unknown";
        kprintf("  0x%016llx 0x%016llx %10llu  %s\n", (unsigned long long)m->base,
                (unsigned long long)(m->base + m->length), (unsigned long long)(m->length >> 10),
                name);
        totals[m->type < 8 ? m->type : MEM_RESERVED] += m->length;
    }
    kprintf("  total usable %llu KiB, reserved %llu KiB, ACPI %llu KiB\n",
            (unsigned long long)(totals[MEM_USABLE] >> 10),
            (unsigned long long)(totals[MEM_RESERVED] >> 10),
            (unsigned long long)((totals[MEM_ACPI_RECLAIM] + totals[MEM_ACPI_NVS]) >> 10));
}

static void report_cpu(const struct boot_info *bi)
{
    static const char *const names[] = { "NX", "1GiB-pages", "PGE", "LA57", "SMEP", "SMAP",
                                         "PAE", "LM", "TSC" };
    kprintf("CPU features:");
    for (unsigned f = 0; f < sizeof(names) / sizeof(names[0]); f++)
        kprintf(" %s%s", BOOT_CPU_HAS(bi, f) ? "+" : "-", names[f]);
    kprintf("\nCPU addresses: %u-bit physical, %u-bit linear\n", bi->phys_addr_bits,
            bi->linear_addr_bits);
}

static uint64_t per_ms_measured; /* report_times; 0 before */

static void report_times(const struct boot_info *bi)
{
    uint64_t now = rdtsc(), per_ms = tsc_per_ms();
    per_ms_measured = per_ms;
    /* stage1: its first instruction to stage2's; stage2: to the jump to the
     * kernel; kernel: from there to this line */
    /* two lines: on a loaded host the stages take seconds, and one line
     * with the rate grew past 80 columns */
    kprintf("TSC rate: %llu kHz (measured against the PIT over the boot)\n",
            (unsigned long long)per_ms);
    kprintf("boot time: stage1 %llu us, stage2 %llu us, kernel %llu us\n",
            (unsigned long long)((bi->tsc_stage2 - bi->tsc_stage1) * 1000 / per_ms),
            (unsigned long long)((bi->tsc_kernel_jump - bi->tsc_stage2) * 1000 / per_ms),
            (unsigned long long)((now - bi->tsc_kernel_jump) * 1000 / per_ms));
}

void report_boot(const struct boot_info *bi)
{
    /* Lines stay within 80 columns (the VGA screen's width): one fact per line. */
    kprintf("BootInfo v%u (%u bytes) at 0x%llx: strategy %s, boot drive 0x%x\n", bi->version,
            bi->size, (unsigned long long)lowmem_phys(bi), strategy_names[bi->strategy],
            bi->boot_drive);
    kprintf("  PML4 0x%llx; identity map 0x1000-0x%llx\n", (unsigned long long)bi->pml4_phys,
            (unsigned long long)bi->identity_size);
    kprintf("  window 0x%llx: %llu GiB in %s pages (%u tables)\n",
            (unsigned long long)bi->phys_window_base,
            (unsigned long long)(bi->phys_window_size >> 30),
            bi->window_page_size == PAGE_SIZE_1G ? "1 GiB" : "2 MiB", bi->window_table_frames);
    kprintf("  kernel phys 0x%llx-0x%llx, virt 0x%llx-0x%llx\n",
            (unsigned long long)bi->kernel_phys_start, (unsigned long long)bi->kernel_phys_end,
            (unsigned long long)bi->kernel_virt_start, (unsigned long long)bi->kernel_virt_end);
    kprintf("  stack 0x%llx-0x%llx (guard page below)\n",
            (unsigned long long)bi->stack_bottom, (unsigned long long)bi->stack_top);
    kprintf("  loader used %u ranges; frame bitmap %llu KiB at 0x%llx\n",
            bi->loader_range_count, (unsigned long long)(bi->pmm_bitmap_bytes >> 10),
            (unsigned long long)bi->pmm_bitmap_virt);
    modules_report(bi);
    report_map(bi);
    report_cpu(bi);
    report_times(bi);
}

void report_elapsed(const struct boot_info *bi)
{
    if (!per_ms_measured)
        return;
    kprintf("boot time: %llu us from the MBR (stage1's first instruction) to here\n",
            (unsigned long long)((rdtsc() - bi->tsc_stage1) * 1000 / per_ms_measured));
}
