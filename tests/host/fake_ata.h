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
/* Transfers done since the last attach. */
extern uint64_t fake_ata_reads, fake_ata_writes;

#endif
