# Test guests: ordinary 32-bit Multiboot1 kernels (they also run on bare
# QEMU) that Tide loads as modules. guest/lib/ is their small library;
# every other directory under guest/ is one guest, all its .c and .asm
# files linked with the library into $(GUEST_BUILD)/<name>.elf.
#
#   make -f guest/guest.mk guests      standalone, from the repository root
#   include guest/guest.mk             from the top Makefile, then `make guests`
#
# Everything here is prefixed GUEST_ so that it mixes with the including
# Makefile's variables, and the fragment leaves that Makefile's default goal
# alone.

GUEST_SAVED_GOAL := $(.DEFAULT_GOAL)
ifeq ($(words $(MAKEFILE_LIST)),1)
GUEST_SAVED_GOAL := guests
endif

GUEST_BUILD   ?= $(if $(BUILD),$(BUILD)/guest,build/guest)
GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_NASM    ?= nasm
GUEST_NAMES   := memhog escape nullcall crash hintcheck hinthog pgtorture asguest lmpaging tasks

GUEST_CFLAGS  := -m32 -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. \
		 -ffreestanding -fno-pic -fno-pie -mno-sse -mno-sse2 -mno-mmx \
		 -mno-avx -mgeneral-regs-only -fno-stack-protector \
		 -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
		 -fcf-protection=none
GUEST_LDFLAGS := -m elf_i386 -nostdlib -no-pie -z max-page-size=4096 \
		 -z noexecstack --build-id=none
GUEST_NASMFLAGS := -f elf32 -g

GUEST_LIB_SRC := $(wildcard guest/lib/*.c guest/lib/*.asm)
GUEST_LIB_OBJ := $(patsubst guest/%,$(GUEST_BUILD)/obj/%.o,$(GUEST_LIB_SRC))
GUEST_ELFS    := $(addprefix $(GUEST_BUILD)/,$(addsuffix .elf,$(GUEST_NAMES)))

.PHONY: guests guests-clean

guests: $(GUEST_ELFS)

# One object per source, named after it (x.c -> x.c.o) so that a .c and an
# .asm of the same name cannot collide.
$(GUEST_BUILD)/obj/%.c.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/obj/%.asm.o: guest/%.asm
	@mkdir -p $(dir $@)
	$(GUEST_NASM) $(GUEST_NASMFLAGS) $< -o $@

# $(call GUEST_template,name): the rule linking one guest.
define GUEST_template
GUEST_$(1)_OBJ := $$(patsubst guest/%,$$(GUEST_BUILD)/obj/%.o,\
		  $$(wildcard guest/$(1)/*.c guest/$(1)/*.asm))
$$(GUEST_BUILD)/$(1).elf: $$(GUEST_$(1)_OBJ) $$(GUEST_LIB_OBJ) guest/lib/guest.ld
	$$(GUEST_LD) $$(GUEST_LDFLAGS) -T guest/lib/guest.ld -o $$@ \
		$$(GUEST_$(1)_OBJ) $$(GUEST_LIB_OBJ)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_template,$(g))))

guests-clean:
	rm -rf $(GUEST_BUILD)

-include $(shell find $(GUEST_BUILD)/obj -name '*.d' 2>/dev/null)

.DEFAULT_GOAL := $(GUEST_SAVED_GOAL)
