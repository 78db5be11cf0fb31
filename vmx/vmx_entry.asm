; Entering a VMX guest and coming back (Intel SDM vol. 3C, chapters 26-27).
;
; int vmx_enter(u64 *gprs, int launched)
;
; The VMCS holds the guest's RSP, RIP and RFLAGS; the other general
; registers are loaded from gprs[] (hardware numbering) before VMLAUNCH /
; VMRESUME and saved there at the exit, whose host RIP is vmx_exit and host
; RSP the stack pointer written here just before entry. Returns 0 after a
; VM exit, 1 if the entry instruction itself failed (VMfailValid/Invalid).

HOST_RSP_FIELD equ 0x6c14

section .text
bits 64
global vmx_enter, vmx_exit
vmx_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi			; gprs, found again at the exit

	mov rax, HOST_RSP_FIELD
	vmwrite rax, rsp

	test esi, esi
	mov rax, [rdi + 0 * 8]
	mov rcx, [rdi + 1 * 8]
	mov rdx, [rdi + 2 * 8]
	mov rbx, [rdi + 3 * 8]
	mov rbp, [rdi + 5 * 8]
	mov rsi, [rdi + 6 * 8]
	mov r8, [rdi + 8 * 8]
	mov r9, [rdi + 9 * 8]
	mov r10, [rdi + 10 * 8]
	mov r11, [rdi + 11 * 8]
	mov r12, [rdi + 12 * 8]
	mov r13, [rdi + 13 * 8]
	mov r14, [rdi + 14 * 8]
	mov r15, [rdi + 15 * 8]
	mov rdi, [rdi + 7 * 8]		; MOVs leave the flags of TEST alone
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	pop rdi
	mov eax, 1
	jmp vmx_return

vmx_exit:
	push rdi			; guest RDI
	mov rdi, [rsp + 8]		; gprs
	mov [rdi + 0 * 8], rax
	mov [rdi + 1 * 8], rcx
	mov [rdi + 2 * 8], rdx
	mov [rdi + 3 * 8], rbx
	mov [rdi + 5 * 8], rbp
	mov [rdi + 6 * 8], rsi
	mov [rdi + 8 * 8], r8
	mov [rdi + 9 * 8], r9
	mov [rdi + 10 * 8], r10
	mov [rdi + 11 * 8], r11
	mov [rdi + 12 * 8], r12
	mov [rdi + 13 * 8], r13
	mov [rdi + 14 * 8], r14
	mov [rdi + 15 * 8], r15
	pop rax
	mov [rdi + 7 * 8], rax
	pop rdi
	xor eax, eax
vmx_return:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
