#!/bin/sh
# Regenerates the length test vectors of the x86 decoder (kernel/x86_decode.c)
# from GNU as, which gives the encodings, and objdump, which gives the text:
#
#   tools/gen-x86-decode-vectors.sh [output]
#
# The output (default tests/unit/kernel/x86_decode_vectors.h) is committed, so
# the unit test needs neither tool. Every instruction is assembled behind its
# own label: its length is the distance to the next one, whatever objdump
# thinks. The script fails if as rejects a line or objdump does not decode it
# as exactly one instruction. 16-bit code is `as --32` with .code16.
#
# In the lists, @M is a memory operand of the mode; the ALU/MOV templates are
# also expanded over every addressing form of the mode.
set -eu

out=${1:-tests/unit/kernel/x86_decode_vectors.h}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Valid in 16-, 32- and 64-bit code.
common() {
	cat <<'EOF'
nop
cpuid
rdmsr
wrmsr
rdtsc
rdtscp
rdpmc
hlt
pause
vmmcall
vmcall
vmlaunch
vmresume
vmxoff
vmrun
vmload
vmsave
stgi
clgi
skinit
invlpga
monitor
mwait
monitorx
mwaitx
clzero
xgetbv
xsetbv
rdpru
serialize
clts
invd
wbinvd
ud2
ud1 %eax, %ecx
ud0 %eax, %ecx
int3
int $0x80
int1
ret
ret $0x10
leave
enter $0x10, $0
enter $0x1234, $3
cli
sti
cld
std
clc
stc
cmc
sahf
lahf
cwtl
cltd
fwait
xlat
rep movsb
rep movsl
rep stosb
rep stosl
repne scasb
repe cmpsb
lodsb
lodsl
movsw
insb
insl
outsb
outsl
rep insb
rep outsw
in $0x60, %al
in $0x60, %ax
in $0x60, %eax
in %dx, %al
in %dx, %ax
in %dx, %eax
out %al, $0x80
out %ax, $0x80
out %eax, $0x80
out %al, %dx
out %ax, %dx
out %eax, %dx
mov $0x12, %al
mov $0x12, %bh
mov $0x1234, %ax
mov $0x12345678, %eax
mov $0x12345678, %edi
mov %ecx, %edx
mov %cl, %dh
mov %ds, %ax
mov %ax, %es
mov %ss, @M
add %ecx, %edx
add $1, %ecx
add $0x12345678, %ecx
add $0x12, %al
add $0x1234, %ax
add $0x12345678, %eax
adc $0x12345678, %eax
sbb $0x12, %cl
sub $-1, %edx
and $0xff00, %eax
or $0x12345678, %ebx
xor %eax, %eax
cmp $0x12345678, %esi
test %eax, %ecx
test $0x12345678, %ecx
testb $0x12, %cl
test $0x12, %al
test $0x12345678, %eax
xchg %eax, %ecx
xchg %ecx, %edx
xchg %ecx, @M
imul $0x12, %ecx, %edx
imul $0x12345678, %ecx, %edx
imul %ecx, %edx
imul $0x1234, @M, %ax
mull %ecx
idivl @M
negl @M
notb @M
shl $3, %eax
shl %eax
shl %cl, %eax
rolw $1, @M
sarl $5, @M
shld $4, %ecx, %edx
shrd %cl, %ecx, %edx
bt $5, %eax
btsl $3, @M
btr %ecx, @M
bsf %ecx, %edx
bswap %eax
popcnt %ecx, %edx
lzcnt %ecx, %edx
tzcnt @M, %edx
movzbl %cl, %edx
movswl %cx, %edx
cmove %ecx, %edx
cmovnz @M, %eax
sete %al
setne @M
jmp .
jmp .+0x1000
je .
je .+0x1000
loop .
call .+0x1000
call *@M
jmp *@M
lcall *@M
ljmp *@M
push $0x12
push $0x1234
pushw $0x1234
push %fs
pop %fs
push %gs
pop %gs
pushf
popf
lea @M, %eax
lea @M, %ax
nopl @M
nopw @M
inc %al
incl @M
decw @M
lfence
mfence
sfence
clflush @M
clflushopt @M
prefetcht0 @M
prefetchw @M
xsave @M
xrstor @M
xsaveopt @M
xsavec @M
fxsave @M
fxrstor @M
lgdt @M
lidt @M
sgdt @M
sidt @M
lldt %ax
ltr %ax
sldt %ax
str %ax
lmsw %ax
smsw %eax
verr %ax
lar %ecx, %edx
lsl @M, %eax
invlpg @M
cmpxchg %ecx, @M
lock cmpxchg %ecx, @M
cmpxchg8b @M
lock cmpxchg8b @M
lock xadd %ecx, @M
lock incl @M
lock notl @M
lock btsl $3, @M
lock orb $0x40, @M
xchg %al, @M
movnti %eax, @M
movbe @M, %eax
crc32b %cl, %eax
crc32l @M, %eax
rdrand %eax
rdseed %eax
xbegin .
xend
xabort $1
xtest
endbr32
endbr64
fld1
flds @M
fldl @M
fstp %st(1)
fadd %st(1), %st
fninit
fnstsw %ax
fldcw @M
fxch
fsin
emms
paddb %mm1, %mm2
movq @M, %mm0
psllq $1, %mm0
movaps %xmm1, %xmm2
movups @M, %xmm1
addps %xmm1, %xmm2
mulsd @M, %xmm3
pshufd $0x1b, %xmm1, %xmm2
shufps $3, %xmm1, %xmm2
cmpps $1, @M, %xmm2
pinsrw $2, %eax, %xmm1
pextrw $1, %xmm1, %eax
psrlw $3, %xmm1
movd %eax, %xmm0
movq %xmm0, %xmm1
cvtsi2sd %eax, %xmm1
pshufb %xmm1, %xmm2
palignr $3, %xmm1, %xmm2
pextrd $1, %xmm1, %eax
roundps $1, @M, %xmm0
blendps $5, %xmm1, %xmm2
pcmpistri $0x1a, %xmm1, %xmm2
aesenc %xmm1, %xmm2
pclmulqdq $0x11, %xmm1, %xmm2
sha1rnds4 $1, %xmm1, %xmm2
ptest @M, %xmm1
movntdq %xmm0, @M
extrq $4, $8, %xmm1
insertq $4, $8, %xmm1, %xmm2
extrq %xmm1, %xmm2
femms
pfadd %mm1, %mm2
pfmul @M, %mm0
vaddps %ymm1, %ymm2, %ymm3
vaddps @M, %xmm1, %xmm2
vmovdqu @M, %ymm0
vmovdqa %ymm0, @M
vpshufd $0x1b, %ymm1, %ymm2
vzeroupper
vzeroall
vpermq $0x1b, %ymm1, %ymm2
vbroadcastss @M, %ymm0
vfmadd231ps %ymm1, %ymm2, %ymm3
vpinsrd $1, %eax, %xmm1, %xmm2
vextracti128 $1, %ymm1, %xmm2
vpextrw $1, %xmm1, @M
vpsllw $3, %xmm1, %xmm2
vcmpps $1, %ymm1, %ymm2, %ymm3
vcvtph2ps %xmm1, %ymm2
andn %ecx, %edx, %eax
bextr %ecx, @M, %eax
shlx %ecx, %edx, %eax
rorx $3, %eax, %ecx
pdep %ecx, %edx, %eax
kmovw %k1, %eax
kandw %k1, %k2, %k3
vaddps %zmm1, %zmm2, %zmm3
vaddps @M, %zmm1, %zmm2
vaddps 0x40(%eax), %zmm1, %zmm2
vaddps (%eax){1to16}, %zmm1, %zmm2
vpshufd $1, %zmm1, %zmm2
vmovdqu64 @M, %zmm0{%k1}
vpternlogd $0xff, %zmm1, %zmm2, %zmm3
vcmpps $1, %zmm1, %zmm2, %k1
vpermt2d %zmm1, %zmm2, %zmm3{%k2}{z}
vaddph %zmm1, %zmm2, %zmm3
vfmadd132ph @M, %zmm2, %zmm3
vpcmov %xmm1, %xmm2, %xmm3, %xmm4
vprotd $3, %xmm1, %xmm2
vfrczps %xmm1, %xmm2
bextr $0x1234, %eax, %ecx
lwpins $0x1234, %eax, %ecx
blcfill %eax, %ecx
EOF
}

# Valid in 16- and 32-bit code only.
legacy() {
	cat <<'EOF'
push %es
pop %es
push %cs
push %ss
pop %ss
push %ds
pop %ds
daa
das
aaa
aas
pusha
popa
iret
lret
lret $8
bound %eax, @M
arpl %ax, @M
into
aam
aam $0x10
aad
les @M, %eax
lds @M, %ax
inc %eax
dec %ecx
inc %ax
lcall $0x10, $0x1234
ljmp $0x10, $0x1234
sysenter
sysexit
mov %cr0, %eax
mov %eax, %cr0
mov %cr3, %ebx
mov %ecx, %cr4
mov %dr7, %eax
mov %eax, %dr0
mov %cr8, %eax
mov %eax, %cr8
EOF
	for r in ax cx dx bx sp bp si di; do
		printf 'inc %%e%s\ndec %%e%s\n' $r $r
	done
}

mode16() {
	cat <<'EOF'
mov 0x1234, %al
mov 0x1234, %ax
mov %al, 0x1234
mov %ax, 0x1234
movl 0x1234, %eax
movl %eax, 0x1234
addr32 mov 0x12345678, %ax
mov %es:0x10, %al
calll .+0x1000
jmpl *%eax
jcxz .
jecxz .
lgdtl @M
retl
lretl
iretl
ljmpl $0x10, $0x12345678
lcalll $0x10, $0x12345678
pushl $0x12345678
pushal
movl $0x12345678, %es:(%di)
movw $0x1234, (%bx,%si)
movb %ah, (%bx)
mov (%bp), %ch
movzbl (%si), %eax
movsbw 0x12(%bx,%di), %dx
rep movsw
rep stosl
EOF
}

mode32() {
	cat <<'EOF'
mov 0x12345678, %al
mov 0x12345678, %eax
mov %al, 0x12345678
mov %eax, 0x12345678
mov 0x12345678, %ax
addr16 mov 0x1234, %eax
addr16 mov %al, 0x1234
mov %fs:0x10, %eax
lcallw $0x10, $0x1234
ljmp $0x08, $0x12345678
jmp *%eax
call *%ecx
jecxz .
jcxz .
lgdtw @M
retw
pushw %es
movl $0x12345678, %fs:(%edi)
movw $0x1234, (%esi)
movb %ah, (%ebx)
mov (%ebp), %ch
movzbl (%esi), %eax
movsbw 0x12(%ebx,%edi,2), %dx
movswl 0x12345678(%eax), %ecx
movzwl (%eax), %edx
bndmk @M, %bnd0
bndmov %bnd1, %bnd0
bndcl @M, %bnd1
bndcu @M, %bnd1
EOF
}

mode64() {
	cat <<'EOF'
swapgs
syscall
sysretl
sysretq
iretq
lretq
lretq $8
movabs $0x1122334455667788, %rax
movabs $0x1122334455667788, %r15
mov $0x12345678, %r8d
mov $0x12345678, %rax
mov $-1, %r9
mov $0x12, %sil
mov $0x12, %r12b
movabs 0x1122334455667788, %al
movabs 0x1122334455667788, %eax
movabs 0x1122334455667788, %rax
movabs %al, 0x1122334455667788
movabs %ax, 0x1122334455667788
movabs %rax, 0x1122334455667788
addr32 movabs 0x12345678, %eax
addr32 movabs %al, 0x12345678
movq $-1, @M
movq $0x12345678, 0x12345678(%rip)
movw $0x1234, @M
mov %r8, @M
mov @M, %r15
mov %r9d, (%r13)
mov %r10w, 0x12(%r12)
mov %sil, @M
mov @M, %spl
mov %ah, (%rax)
mov (%rbx), %bh
mov %r8b, (%rcx)
movslq @M, %rax
movslq (%r14), %r11
movsbq @M, %rcx
movzwq @M, %rdx
movzbl @M, %r9d
movsbw (%rsi), %r10w
mov %cr0, %rax
mov %rax, %cr3
mov %cr4, %r9
mov %cr8, %rax
mov %rax, %cr8
mov %dr7, %rax
mov %r8, %dr0
push %r12
pop %r15
pushq $0x12
pushq $0x12345678
pushw $0x12
push %rax
pop %rbx
pushq @M
popq @M
call *%rax
jmp *%r11
call *0x12(%rip)
jmp *(%rax,%rcx,8)
callw .+0x100
jrcxz .
jecxz .
cmpxchg16b @M
lock cmpxchg16b @M
lock addq $1, 0x12345678(%rip)
lock xaddq %r8, (%r9)
add $0x12345678, %rax
add $0x12345678, %r9
add %r8, %r9
add $1, %r10b
imul $0x12345678, %r8, %r9
xchg %r8, %rax
xchg %eax, %eax
xchg %r8d, %eax
movq %xmm0, %rax
movq %rax, %mm1
cvtsi2sdq %rax, %xmm1
pextrq $1, %xmm1, %rax
vpinsrq $1, %rax, %xmm1, %xmm2
vaddps %ymm8, %ymm9, %ymm15
vmovdqu (%r8,%r9,4), %ymm12
andn %rcx, %rdx, %rax
shlx %r8, %r9, %r10
vaddps %zmm17, %zmm18, %zmm31
vaddps 0x40(%r15,%r14,8), %zmm1, %zmm2
vmovdqu64 0x12345678(%rip), %zmm0
vpgatherdd (%r8,%zmm1,4), %zmm2{%k1}
rdfsbase %rax
wrgsbase %rax
rdpid %rax
invpcid @M, %rax
invept @M, %rax
invvpid @M, %rax
vmread %rax, %rbx
vmwrite @M, %rax
vmptrld @M
vmptrst @M
vmclear @M
vmxon @M
mov %fs:0x28, %rax
mov %gs:0, %rax
movq 0x12(%rip), %rax
leaq 0x1234(%rip), %rsi
addr32 lea (%eax), %eax
addr32 mov (%eax), %ecx
lgdt 0x12(%rip)
invlpg (%r15)
xsave64 @M
fxsave64 @M
rex64 xlat
bextr $0x1234, %rax, %rcx
bndmk @M, %bnd0
bndmov %bnd1, %bnd0
bndcl @M, %bnd1
bndcu @M, %bnd1
EOF
	for op in add or adc sbb and sub xor cmp test; do
		echo "$op \$0x12345678, %rax"
	done
	for r in ax cx dx bx sp bp si di; do
		echo "movabs \$0x1122334455667788, %r$r"
	done
}

# Opcode by opcode: every ALU, shift, group-3, Jcc/SETcc/CMOVcc, register and
# string form, the x87 escapes, and the SSE/MMX part of the 0F map. @S is
# the stack register prefix (e or r), @W the stack suffix (l or q).
systematic() {
	for op in add or adc sbb and sub xor cmp; do
		cat <<EOF
${op}b %cl, @M
${op}l %ecx, @M
${op}b @M, %cl
${op}l @M, %ecx
${op} \$0x12, %al
${op} \$0x12345678, %eax
${op}b \$0x12, @M
${op}l \$0x12345678, @M
${op}l \$0x12, @M
${op} \$0x1234, %ax
${op}w \$0x1234, @M
EOF
	done
	for r in ax cx dx bx sp bp si di; do
		cat <<EOF
push %@S$r
pop %@S$r
xchg %e$r, %eax
mov \$0x12345678, %e$r
mov \$0x1234, %$r
bswap %e$r
EOF
	done
	for r in al cl dl bl ah ch dh bh; do
		echo "mov \$0x12, %$r"
	done
	for cc in o no b ae e ne be a s ns p np l ge le g; do
		cat <<EOF
j$cc .
j$cc .+0x1000
set$cc %al
cmov$cc %ecx, %edx
EOF
	done
	for op in rol ror rcl rcr shl shr sar; do
		cat <<EOF
${op}b \$3, @M
${op}l \$3, %ecx
${op}b @M
${op}l %ecx
${op}b %cl, %dl
${op}l %cl, @M
EOF
	done
	for op in not neg mul imul div idiv; do
		printf '%sb @M\n%sl %%ecx\n' $op $op
	done
	for op in movs cmps stos lods scas ins outs; do
		printf '%sb\n%sw\n%sl\nrep %sb\n' $op $op $op $op
	done
	cat <<'EOF'
testb $1, @M
testl $0x12345678, %ecx
testw $0x1234, @M
test $0x1234, %ax
imul $0x1234, %cx, %dx
lss @M, %esp
lfs @M, %eax
lgs @M, %bx
test %cl, @M
test %ecx, @M
xchg %cl, @M
xchg %ecx, @M
mov %cl, @M
mov %ecx, @M
mov @M, %cl
mov @M, %ecx
mov %ds, @M
mov @M, %ds
pop@W @M
push@W @M
cbtw
cwtl
cwtd
cltd
wait
int $3
loopne .
loope .
loop .
fadds @M
fadd %st(2), %st
flds @M
fld %st(1)
fiaddl @M
fcmovb %st(1), %st
fildl @M
fcomi %st(1), %st
faddl @M
fadd %st, %st(2)
fldl @M
ffree %st(1)
fiadds @M
faddp
filds @M
fnstsw %ax
sldt @M
str @M
lldt @M
ltr @M
verr @M
verw @M
lar @M, %eax
lsl %ecx, %eax
prefetchnta @M
prefetcht1 @M
prefetch @M
nopl %eax
nopw %ax
getsec
bt %ecx, @M
bts %ecx, %edx
btc %ecx, @M
btl $3, @M
btrl $3, @M
btcl $3, %ecx
shld $4, %ecx, @M
shld %cl, %ecx, @M
shrd $4, %ecx, @M
imul @M, %ecx
cmpxchg %cl, @M
cmpxchg %ecx, %edx
xadd %cl, @M
xadd %ecx, %edx
movzwl @M, %ecx
movsbl @M, %ecx
movswl %cx, %ecx
bsr @M, %ecx
rdrand %ecx
vmptrld @M
xrstors @M
xsaves @M
rsm
movups %xmm1, @M
movss @M, %xmm1
movupd %xmm1, %xmm2
movsd @M, %xmm1
movlps @M, %xmm1
movhlps %xmm1, %xmm2
movlpd %xmm1, @M
movsldup %xmm1, %xmm2
movddup @M, %xmm1
unpcklps %xmm1, %xmm2
unpckhpd @M, %xmm2
movhps @M, %xmm1
movhps %xmm1, @M
movaps %xmm1, @M
cvtpi2ps %mm1, %xmm2
movntps %xmm1, @M
cvttps2pi %xmm1, %mm2
cvtsd2si %xmm1, %eax
ucomiss %xmm1, %xmm2
comisd @M, %xmm2
movmskps %xmm1, %eax
sqrtps %xmm1, %xmm2
rsqrtss @M, %xmm2
rcpps %xmm1, %xmm2
andps %xmm1, %xmm2
andnpd @M, %xmm2
orps %xmm1, %xmm2
xorps %xmm1, %xmm1
addsd %xmm1, %xmm2
mulps @M, %xmm2
cvtps2pd %xmm1, %xmm2
cvtdq2ps %xmm1, %xmm2
subss %xmm1, %xmm2
minpd %xmm1, %xmm2
divps @M, %xmm2
maxsd %xmm1, %xmm2
punpcklbw %mm1, %mm2
punpcklwd %xmm1, %xmm2
punpckldq @M, %xmm2
packsswb %mm1, %mm2
pcmpgtb %xmm1, %xmm2
pcmpgtw @M, %mm2
pcmpgtd %xmm1, %xmm2
packuswb %xmm1, %xmm2
punpckhbw %xmm1, %xmm2
punpckhwd %mm1, %mm2
punpckhdq %xmm1, %xmm2
packssdw @M, %xmm2
punpcklqdq %xmm1, %xmm2
punpckhqdq %xmm1, %xmm2
movd @M, %mm1
movdqa @M, %xmm1
pshufw $0x1b, %mm1, %mm2
pshuflw $0x1b, @M, %xmm2
psrlw $3, %mm1
psrad $3, %xmm1
psllq $3, %mm1
psrldq $3, %xmm1
pcmpeqb %xmm1, %xmm2
pcmpeqw %mm1, %mm2
pcmpeqd @M, %xmm2
haddpd %xmm1, %xmm2
hsubps @M, %xmm2
movd %mm1, @M
movq %xmm1, %xmm2
movdqu %xmm1, @M
movq %mm1, @M
cmpss $2, %xmm1, %xmm2
shufpd $1, @M, %xmm2
addsubpd %xmm1, %xmm2
psrlw %xmm1, %xmm2
psrld @M, %mm2
psrlq %xmm1, %xmm2
paddq %mm1, %mm2
pmullw %xmm1, %xmm2
movq %xmm1, @M
movq2dq %mm1, %xmm2
pmovmskb %xmm1, %eax
psubusb %xmm1, %xmm2
psubusw @M, %xmm2
pminub %mm1, %mm2
pand %xmm1, %xmm2
paddusb %xmm1, %xmm2
paddusw %mm1, %mm2
pmaxub %xmm1, %xmm2
pandn @M, %xmm2
pavgb %xmm1, %xmm2
psraw %mm1, %mm2
psrad %xmm1, %xmm2
pavgw %xmm1, %xmm2
pmulhuw @M, %xmm2
pmulhw %xmm1, %xmm2
cvttpd2dq %xmm1, %xmm2
movntq %mm1, @M
psubsb %xmm1, %xmm2
psubsw %mm1, %mm2
pminsw %xmm1, %xmm2
por @M, %xmm2
paddsb %xmm1, %xmm2
paddsw %xmm1, %xmm2
pmaxsw %mm1, %mm2
pxor %xmm1, %xmm2
lddqu @M, %xmm1
psllw %xmm1, %xmm2
pslld %mm1, %mm2
psllq @M, %xmm2
pmuludq %xmm1, %xmm2
pmaddwd %xmm1, %xmm2
psadbw %mm1, %mm2
maskmovq %mm1, %mm2
maskmovdqu %xmm1, %xmm2
psubb %xmm1, %xmm2
psubw @M, %xmm2
psubd %xmm1, %xmm2
psubq %mm1, %mm2
paddb %xmm1, %xmm2
paddw %xmm1, %xmm2
paddd @M, %xmm2
pmaxsd %xmm1, %xmm2
pmovzxbw @M, %xmm1
pblendw $3, %xmm1, %xmm2
pinsrb $1, @M, %xmm1
dpps $0xff, %xmm1, %xmm2
cvtpd2pi %xmm1, %mm2
cvtsi2ssl @M, %xmm1
cvttss2si %xmm1, %eax
cvtpd2ps %xmm1, %xmm2
EOF
}

# MOV and ALU templates, expanded over every addressing form.
templates() {
	cat <<'EOF'
addl $1, @M
movl $0x12345678, @M
mov @M, %al
movzbl @M, %ecx
EOF
}

forms16='(%bx)
(%bp)
(%si)
(%bx,%si)
(%bp,%di)
0x12(%bx)
-0x12(%bp)
0x1234(%bx,%si)
0x1234
(%eax)
0x12(%esp)
0x12345678(%eax,%ebx,4)
%es:(%di)'

forms32='(%eax)
(%esp)
(%ebp)
0x12(%ebp)
-8(%esp)
0x12345678(%eax)
(%eax,%ebx,4)
0x10(%esp,%ecx,8)
0x12345678(,%esi,2)
0x12345678
(%bx,%si)
0x1234(%bp)
%fs:0x10'

forms64='(%rax)
(%rsp)
(%rbp)
(%r12)
(%r13)
0x12345678(%rip)
0x12(%r8,%r9,4)
0x12345678(,%r10,8)
0x1234
(%eax)
0x10(%r11d)
-0x80(%rsp,%r15,1)
%gs:(%rax)'

# The lines of a mode, each once: the lists with @M as $2 (@S, @W as $3,
# $4), then the templates over every form.
expand() { # forms, memory operand, stack prefix, stack suffix, lists...
	forms=$1 mem=$2 stk=$3 sfx=$4
	shift 4
	{
		for list in "$@"; do
			$list | awk -v m="$mem" -v s="$stk" -v w="$sfx" \
				'{ gsub(/@M/, m); gsub(/@S/, s); gsub(/@W/, w); print }'
		done
		printf '%s\n' "$forms" | while IFS= read -r form; do
			templates | awk -v m="$form" '{ gsub(/@M/, m); print }'
		done
	} | awk '!seen[$0]++'
}

# Assembles one mode's lines and prints the C entries.
vectors() { # name, as flags, .code, objdump flags, lines file
	name=$1 asflags=$2 code=$3 odflags=$4 lines=$5
	awk -v code="$code" 'BEGIN { print ".code" code }
		{ printf "v_%d:\t%s\n", NR, $0 }' "$lines" >"$tmp/$name.s"
	as $asflags -o "$tmp/$name.o" "$tmp/$name.s"
	objdump -d -z -w --insn-width=15 $odflags "$tmp/$name.o" |
	awk -v mode="X86_MODE_$name" -v lines="$lines" '
	BEGIN { while ((getline l < lines) > 0) src[++n] = l }
	function flush(  n, b, i, s) {
		if (sym == "")
			return;
		if (nins != 1 || text ~ /\(bad\)|^\.byte|\*\//) {
			printf "%s line %d \"%s\": objdump saw %d instructions: %s\n",
			       mode, sym, src[sym], nins, text > "/dev/stderr";
			bad = 1;
		}
		n = split(bytes, b, " ");
		s = "";
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? ", " : "") "0x" b[i];
		sub(/ *#.*/, "", text); # RIP-relative targets: no use here
		gsub(/ *<[^>]*>/, "", text);
		gsub(/[ \t]+/, " ", text);
		sub(/ +$/, "", text);
		printf "\t{ %s, %d, { %s } }, /* %s */\n", mode, n, s, text;
		sym = "";
	}
	/^[0-9a-f]+ <v_[0-9]+>:$/ {
		flush();
		sym = $2;
		gsub(/[^0-9]/, "", sym);
		nins = 0;
		bytes = "";
		text = "";
		next;
	}
	/^ *[0-9a-f]+:\t/ {
		split($0, f, "\t");
		bytes = bytes " " f[2];
		text = (nins++ ? text " ; " : "") f[3];
	}
	END { flush(); exit bad }'
}

expand "$forms16" '0x12(%bx,%si)' e l common systematic legacy mode16 >"$tmp/16.txt"
expand "$forms32" '0x12(%eax,%ecx,4)' e l common systematic legacy mode32 >"$tmp/32.txt"
expand "$forms64" '0x12(%rax,%rcx,4)' r q common systematic mode64 >"$tmp/64.txt"

{
	cat <<EOF
/*
 * Generated by tools/gen-x86-decode-vectors.sh with
 * $(as --version | head -n 1) and objdump; do not edit.
 * Each entry: the mode, the length GNU as gave, the bytes, and objdump's text.
 */
#ifndef TIDE_X86_DECODE_VECTORS_H
#define TIDE_X86_DECODE_VECTORS_H

#include "kernel/x86_decode.h"

struct x86_decode_vector {
	enum x86_mode mode;
	u8 length;
	u8 bytes[X86_MAX_INSN_LEN];
};

static const struct x86_decode_vector x86_decode_vectors[] = {
EOF
	vectors 16 --32 16 '-m i8086' "$tmp/16.txt"
	vectors 32 --32 32 '' "$tmp/32.txt"
	vectors 64 --64 64 '' "$tmp/64.txt"
	cat <<EOF
};

#endif
EOF
} >"$tmp/out.h"
mv "$tmp/out.h" "$out"
echo "$out: $(grep -c '^	{ X86_MODE' "$out") vectors"
