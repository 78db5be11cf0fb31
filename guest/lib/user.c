/*
 * user_call(): installs the ring-3 return gate on first use and enters
 * ring 3 through user_entry.asm.
 */
#include "guest/lib/trap.h"
#include "guest/lib/user.h"

#define USER_RETURN_VECTOR 0x80

void user_enter(void (*fn)(void));
void user_return(void);

void user_call(void (*fn)(void))
{
	static bool gate_set;

	if (!gate_set) {
		idt_set_gate(USER_RETURN_VECTOR, (u32)user_return, 3);
		gate_set = true;
	}
	user_enter(fn);
}
