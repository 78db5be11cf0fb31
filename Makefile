# Tide: build, run, test.
#   make            build/tide.elf (ELF64, GRUB/GDB) and build/tide.elf32 (QEMU -kernel)
#   make run        boot the default demo in QEMU (serial console on stdout)
#   make test       host unit tests + fuzz smoke run + the serial-console suite
#   make iso        build/tide.iso (GRUB, BIOS and UEFI)
#   make debug      QEMU waiting for GDB
#   make bench      path lengths under QEMU -icount (build/bench/)
#   make plots      PNG plots of the last make bench run (build/plots/)
#   make deps       install what is missing (root) or print the apt-get line

BUILD      := build
CC         := gcc
LD         := ld
NASM       := nasm
OBJCOPY    := objcopy
HOSTCC     := cc
CLANG      := clang
PYTHON     := python3
QEMU       := qemu-system-x86_64

VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS     := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. \
	      -ffreestanding -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
	      -mno-mmx -mno-sse -mno-sse2 -mno-avx -mgeneral-regs-only \
	      -fno-stack-protector -fno-omit-frame-pointer \
	      -fno-asynchronous-unwind-tables -fcf-protection=none
LDFLAGS    := -nostdlib -no-pie -z max-page-size=4096 -z noexecstack
NASMFLAGS  := -f elf64 -I.

# Every C and assembly file of the hypervisor, by directory.
KERNEL_C   := $(wildcard arch/x86/*.c kernel/*.c mm/*.c vmx/*.c svm/*.c drivers/*.c)
KERNEL_ASM := $(wildcard boot/*.asm arch/x86/*.asm vmx/*.asm svm/*.asm)
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(KERNEL_C)) \
	      $(patsubst %.asm,$(BUILD)/obj/%.o,$(KERNEL_ASM))

# Host unit tests: name and the hypervisor sources each one links.
UNIT_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -O1 -I. \
	       -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS  := buddy_test memmap_test bootinfo_test x86_decode_test
buddy_test_SRCS    := mm/buddy.c
x86_decode_test_SRCS := kernel/x86_decode.c
memmap_test_SRCS   := mm/memmap.c
bootinfo_test_SRCS := mm/bootinfo.c mm/memmap.c
UNIT_BINS   := $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))
FUZZ_BIN    := $(BUILD)/unit/bootinfo_fuzz

.PHONY: all run test unit iso debug deps clean bench plots FORCE

all: $(BUILD)/tide.elf $(BUILD)/tide.elf32

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.asm arch/x86/layout.inc
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) $< -o $@

# The version goes into one small object, rebuilt only when it changes.
$(BUILD)/version.c: FORCE
	@mkdir -p $(BUILD)
	@echo 'const char tide_version[] = "$(VERSION)";' > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(BUILD)/obj/version.o: $(BUILD)/version.c
	@$(CC) $(CFLAGS) -c $< -o $@

# Two links, for the symbol names of panic backtraces (arch/x86/symbols.h):
# the first with an empty symbol table, then the table of that image's text
# symbols (tools/gen-symbols.sh) is compiled in and Tide linked again. The
# table is rodata, after text in linker.ld, so text does not move; the check
# after the second link deletes build/tide.elf and fails if it did.
$(BUILD)/symbols-empty.c: tools/gen-symbols.sh
	@mkdir -p $(BUILD)
	@tools/gen-symbols.sh < /dev/null > $@

$(BUILD)/tide-nosyms.elf: $(KERNEL_OBJ) $(BUILD)/obj/version.o $(BUILD)/obj/symbols-empty.o linker.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -T linker.ld -o $@ $(KERNEL_OBJ) $(BUILD)/obj/version.o \
		$(BUILD)/obj/symbols-empty.o

$(BUILD)/symbols.c: $(BUILD)/tide-nosyms.elf tools/gen-symbols.sh
	@echo "  GEN     $@"
	@nm -n $< > $@.nm
	@tools/gen-symbols.sh < $@.nm > $@.tmp
	@rm $@.nm && mv $@.tmp $@

$(BUILD)/obj/symbols.o $(BUILD)/obj/symbols-empty.o: $(BUILD)/obj/%.o: $(BUILD)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tide.elf: $(KERNEL_OBJ) $(BUILD)/obj/version.o $(BUILD)/obj/symbols.o linker.ld \
		   $(BUILD)/tide-nosyms.elf tools/gen-symbols.sh
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -T linker.ld -o $@ $(KERNEL_OBJ) $(BUILD)/obj/version.o \
		$(BUILD)/obj/symbols.o
	@tools/gen-symbols.sh --check $(BUILD)/tide-nosyms.elf $@ || { rm -f $@; exit 1; }

# QEMU -kernel takes only 32-bit ELF: the same image, re-labelled. Tide is
# linked below 4 GiB, so every address fits.
$(BUILD)/tide.elf32 $(BUILD)/notrace/tide.elf32: %.elf32: %.elf
	@echo "  OBJCOPY $@"
	@$(OBJCOPY) -O elf32-i386 $< $@

# The same Tide with every trace point compiled out, for make bench to
# show what disabled trace points cost (kernel/trace.h).
NOTRACE_OBJ := $(patsubst %.c,$(BUILD)/notrace/obj/%.o,$(KERNEL_C)) \
	       $(patsubst %.asm,$(BUILD)/obj/%.o,$(KERNEL_ASM))

$(BUILD)/notrace/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (no trace points)"
	@$(CC) $(CFLAGS) -DTIDE_NO_TRACE -MMD -MP -c $< -o $@

$(BUILD)/notrace/tide.elf: $(NOTRACE_OBJ) $(BUILD)/obj/version.o $(BUILD)/obj/symbols-empty.o linker.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -T linker.ld -o $@ $(NOTRACE_OBJ) $(BUILD)/obj/version.o \
		$(BUILD)/obj/symbols-empty.o

# --- host unit tests and the fuzz target ---------------------------------
# One rule per unit test: its main file (found under tests/unit/), the
# harness, and the hypervisor sources it tests.
define UNIT_RULE
$(BUILD)/unit/$(1): $(wildcard tests/unit/*/$(1).c) tests/unit/unit.c tests/unit/unit.h $$($(1)_SRCS)
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(UNIT_CFLAGS) tests/unit/unit.c $$($(1)_SRCS) $(wildcard tests/unit/*/$(1).c) -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_RULE,$(t))))
$(BUILD)/unit/x86_decode_test: tests/unit/kernel/x86_decode_vectors.h

$(FUZZ_BIN): tests/unit/mm/bootinfo_fuzz.c mm/bootinfo.c mm/memmap.c tests/unit/unit.c
	@mkdir -p $(dir $@) $(BUILD)/unit/fuzz-corpus
	$(CLANG) -g -O1 -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all tests/unit/unit.c \
		mm/bootinfo.c mm/memmap.c $< -o $@

unit: $(UNIT_BINS) $(FUZZ_BIN)

# --- test guests (guest/guest.mk) and plots (tools/plots.mk) ----------------
include guest/guest.mk
include tools/plots.mk

# --- running --------------------------------------------------------------
RUN_CMDLINE ?= selftest=all poweroff=qemu slice=2
RUN_MODULES ?= build/guest/memhog.elf name=first mem=64M -- mib=32,build/guest/memhog.elf name=second mem=48M -- mib=16
QEMU_RUN := $(QEMU) -accel tcg -cpu EPYC -m 256 -display none -monitor none \
	    -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04

run: deps all guests
	@tools/qemu-status.sh $(QEMU_RUN) -kernel $(BUILD)/tide.elf32 -append "$(RUN_CMDLINE)" \
		-initrd "$(RUN_MODULES)"

debug: deps all guests
	@echo "QEMU waits for GDB on :1234. In another terminal:"
	@echo "  gdb $(BUILD)/tide.elf -ex 'target remote :1234' -ex 'break kernel_main' -ex continue"
	$(QEMU_RUN) -kernel $(BUILD)/tide.elf32 -append "$(RUN_CMDLINE)" -initrd "$(RUN_MODULES)" -s -S

# On real hardware the run ends with ACPI S5 instead of QEMU's exit port.
ISO_CMDLINE ?= $(subst poweroff=qemu,poweroff=acpi,$(RUN_CMDLINE))
iso: $(BUILD)/tide.iso
$(BUILD)/tide.iso: $(BUILD)/tide.elf tools/mkiso.sh guests FORCE
	tools/mkiso.sh $@ $(BUILD)/tide.elf "$(ISO_CMDLINE)" \
		$(BUILD)/guest/memhog.elf "memhog.elf name=memhog mem=64M -- mib=32"

# --- the whole suite ------------------------------------------------------
# A guest image cut short, for the test that bad modules are refused.
$(BUILD)/guest/memhog-truncated.elf: $(BUILD)/guest/memhog.elf
	head -c 6000 $< > $@

test: deps all unit guests $(BUILD)/guest/memhog-truncated.elf
	$(PYTHON) tests/run.py $(TEST_ARGS)

# Path lengths under QEMU -icount, beside bare QEMU as the baseline.
bench: deps all guests $(BUILD)/notrace/tide.elf32
	$(PYTHON) tools/bench.py

deps:
	@tools/deps.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/notrace/obj -name '*.d' 2>/dev/null)
