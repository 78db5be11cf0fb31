; Entering an SVM guest and coming back (APM vol. 2, 15.5).
;
; void svm_enter(u64 guest_vmcb_pa, u64 *gprs, u64 host_vmcb_pa)
;
; VMRUN switches only part of the state: RAX, RSP, RIP, RFLAGS, the control
; registers and the ES/CS/SS/DS segments. The other guest GPRs are loaded
; and saved here from/to gprs[] (hardware numbering), and FS, GS, TR, LDTR,
; KernelGsBase and the SYSCALL/SYSENTER MSRs are swapped with VMLOAD and
; VMSAVE, against a second VMCB holding the host's values. GIF is clear
; around the whole switch; host RFLAGS.IF is set for VMRUN so that physical
; interrupts (V_INTR_MASKING) make the guest exit instead of being lost.

section .text
bits 64
global svm_enter
svm_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rsi			; gprs
	push rdx			; host VMCB
	push rdi			; guest VMCB

	clgi
	mov rax, rdx
	vmsave			; host FS/GS/TR/LDTR/... into the host VMCB

	mov rax, rdi
	mov rcx, [rsi + 1 * 8]
	mov rdx, [rsi + 2 * 8]
	mov rbx, [rsi + 3 * 8]
	mov rbp, [rsi + 5 * 8]
	mov rdi, [rsi + 7 * 8]
	mov r8, [rsi + 8 * 8]
	mov r9, [rsi + 9 * 8]
	mov r10, [rsi + 10 * 8]
	mov r11, [rsi + 11 * 8]
	mov r12, [rsi + 12 * 8]
	mov r13, [rsi + 13 * 8]
	mov r14, [rsi + 14 * 8]
	mov r15, [rsi + 15 * 8]
	mov rsi, [rsi + 6 * 8]

	vmload
	sti				; GIF=0 still holds interrupts back
	vmrun
	cli
	vmsave			; RAX is the host's again: the guest VMCB

	push rsi			; guest RSI
	mov rsi, [rsp + 3 * 8]		; gprs
	mov [rsi + 1 * 8], rcx
	mov [rsi + 2 * 8], rdx
	mov [rsi + 3 * 8], rbx
	mov [rsi + 5 * 8], rbp
	mov [rsi + 7 * 8], rdi
	mov [rsi + 8 * 8], r8
	mov [rsi + 9 * 8], r9
	mov [rsi + 10 * 8], r10
	mov [rsi + 11 * 8], r11
	mov [rsi + 12 * 8], r12
	mov [rsi + 13 * 8], r13
	mov [rsi + 14 * 8], r14
	mov [rsi + 15 * 8], r15
	pop rax
	mov [rsi + 6 * 8], rax

	add rsp, 8			; guest VMCB
	pop rax				; host VMCB
	vmload
	stgi
	pop rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
