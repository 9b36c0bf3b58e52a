/*
 * fake_ata.h - the host tests' disk under kernel/mm/swap.c (fake_ata.c).
 */
#ifndef TESTS_HOST_FAKE_ATA_H
#define TESTS_HOST_FAKE_ATA_H

#include <stdint.h>

/* The disk ata_init finds next: n_sectors of 512 bytes at bytes (NULL:
 * none). The caller keeps the bytes alive. */
void fake_ata_attach(uint8_t *bytes, uint64_t n_sectors);
/* The next n writes fail with ATA_ERR_DEVICE. */
void fake_ata_fail_writes(unsigned n);
/* A disk with an MBR whose second entry is a swap partition of `slots`
 * slots after its header page, as disk/mkimage.py writes them, at LBA
 * FAKE_SWAP_LBA: made (the previous one freed) and attached. */
#define FAKE_SWAP_LBA 8u
void fake_ata_swap_disk(uint32_t slots);
/* Transfers done since the last attach. */
extern uint64_t fake_ata_reads, fake_ata_writes;

#endif
