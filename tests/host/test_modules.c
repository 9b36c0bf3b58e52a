/*
 * test_modules.c - host unit tests for stage2/module_check.c: which files
 * of /bin become boot modules, every limit at, just below and just above
 * it (BOOT_INFO_MAX_MODULES, BOOT_MODULE_NAME_MAX - 1, BOOT_MODULE_MAX_SIZE,
 * the 4-byte ELF magic, BOOT_CONFIG_MAX_SIZE).
 */
#include "check.h"
#include "module_check.h"
#include "bootinfo.h"
#include "layout.h"

static const uint8_t elf[4] = { 0x7F, 'E', 'L', 'F' };

static enum module_verdict ok_file(uint32_t taken, uint32_t name_len, uint32_t size)
{
    return module_check(taken, name_len, size, elf, 4);
}

static void test_the_sixteenth_module_is_taken_and_the_seventeenth_refused(void)
{
    CHECK_EQ(ok_file(BOOT_INFO_MAX_MODULES - 2, 5, 100), MODULE_OK);
    CHECK_EQ(ok_file(BOOT_INFO_MAX_MODULES - 1, 5, 100), MODULE_OK);
    CHECK_EQ(ok_file(BOOT_INFO_MAX_MODULES, 5, 100), MODULE_TOO_MANY);
    CHECK_EQ(ok_file(0, 5, 100), MODULE_OK);
}

static void test_a_name_of_31_characters_is_taken_and_32_refused(void)
{
    CHECK_EQ(ok_file(0, BOOT_MODULE_NAME_MAX - 2, 100), MODULE_OK);
    CHECK_EQ(ok_file(0, BOOT_MODULE_NAME_MAX - 1, 100), MODULE_OK);
    CHECK_EQ(ok_file(0, BOOT_MODULE_NAME_MAX, 100), MODULE_NAME_TOO_LONG);
    CHECK_EQ(ok_file(0, 255, 100), MODULE_NAME_TOO_LONG);
}

static void test_a_file_of_the_size_cap_is_taken_and_one_byte_more_refused(void)
{
    CHECK_EQ(ok_file(0, 5, BOOT_MODULE_MAX_SIZE - 1), MODULE_OK);
    CHECK_EQ(ok_file(0, 5, BOOT_MODULE_MAX_SIZE), MODULE_OK);
    CHECK_EQ(ok_file(0, 5, BOOT_MODULE_MAX_SIZE + 1), MODULE_TOO_LARGE);
    CHECK_EQ(ok_file(0, 5, UINT32_MAX), MODULE_TOO_LARGE);
}

static void test_only_files_starting_with_the_elf_magic_are_taken(void)
{
    static const uint8_t script[4] = { '#', '!', '/', 'b' };
    static const uint8_t almost[4] = { 0x7F, 'E', 'L', 'G' };
    CHECK_EQ(module_check(0, 5, 4, elf, 4), MODULE_OK);          /* the magic alone */
    CHECK_EQ(module_check(0, 5, 3, elf, 3), MODULE_NOT_ELF);     /* one byte short */
    CHECK_EQ(module_check(0, 5, 0, elf, 0), MODULE_NOT_ELF);     /* empty */
    CHECK_EQ(module_check(0, 5, 3, elf, 4), MODULE_NOT_ELF);     /* head past the size */
    CHECK_EQ(module_check(0, 5, 100, script, 4), MODULE_NOT_ELF);
    CHECK_EQ(module_check(0, 5, 100, almost, 4), MODULE_NOT_ELF);
}

static void test_a_file_at_fault_is_named_for_its_fault_not_the_count(void)
{
    static const uint8_t script[4] = { '#', '!', '/', 'b' };
    CHECK_EQ(ok_file(BOOT_INFO_MAX_MODULES, BOOT_MODULE_NAME_MAX, 100), MODULE_NAME_TOO_LONG);
    CHECK_EQ(ok_file(BOOT_INFO_MAX_MODULES, 5, BOOT_MODULE_MAX_SIZE + 1), MODULE_TOO_LARGE);
    CHECK_EQ(module_check(BOOT_INFO_MAX_MODULES, 5, 100, script, 4), MODULE_NOT_ELF);
}

static void test_a_config_of_the_cap_is_taken_and_one_byte_more_refused(void)
{
    CHECK(config_size_ok(0), "empty");
    CHECK(config_size_ok(BOOT_CONFIG_MAX_SIZE - 1), "cap - 1");
    CHECK(config_size_ok(BOOT_CONFIG_MAX_SIZE), "cap");
    CHECK(!config_size_ok(BOOT_CONFIG_MAX_SIZE + 1), "cap + 1");
}

static void test_every_verdict_has_its_own_name(void)
{
    check_distinct_messages(module_verdict_name, MODULE_OK, MODULE_VERDICT_COUNT - 1,
                            "unknown verdict");
    check_unknown_outside(module_verdict_name, MODULE_OK, MODULE_VERDICT_COUNT - 1,
                          "unknown verdict");
}

static void test_every_module_fits_boot_info_and_the_struct_its_limit(void)
{
    CHECK(sizeof(struct boot_info) <= 3 * 4096, "BootInfo is %zu bytes", sizeof(struct boot_info));
    CHECK_EQ(sizeof(((struct boot_module *)0)->name), BOOT_MODULE_NAME_MAX);
    CHECK_EQ(BOOT_INFO_VERSION, 3);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_the_sixteenth_module_is_taken_and_the_seventeenth_refused),
    CHECK_TEST(test_a_name_of_31_characters_is_taken_and_32_refused),
    CHECK_TEST(test_a_file_of_the_size_cap_is_taken_and_one_byte_more_refused),
    CHECK_TEST(test_only_files_starting_with_the_elf_magic_are_taken),
    CHECK_TEST(test_a_file_at_fault_is_named_for_its_fault_not_the_count),
    CHECK_TEST(test_a_config_of_the_cap_is_taken_and_one_byte_more_refused),
    CHECK_TEST(test_every_verdict_has_its_own_name),
    CHECK_TEST(test_every_module_fits_boot_info_and_the_struct_its_limit),
};

int main(void)
{
    return check_main("modules", tests, CHECK_COUNT(tests));
}
