/* syscalls.S - raw system call stubs and constants, as CRIU keeps them for
 * code that must not depend on glibc. */
#include "asm/task-size.h"

	.text

	.globl	arch_task_size
	.type	arch_task_size, @function
arch_task_size:
	movabs	$TASK_SIZE_X86_64, %rax
	ret
	.size	arch_task_size, . - arch_task_size

	.globl	sys_getpid
	.type	sys_getpid, @function
sys_getpid:
	movl	$__NR_getpid_x86_64, %eax
	syscall
	ret
	.size	sys_getpid, . - sys_getpid

	.section .note.GNU-stack, "", @progbits
