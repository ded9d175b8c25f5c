/* task-size.h - x86-64 address space constants, shared by C and assembly. */
#ifndef __CR_ASM_TASK_SIZE_H__
#define __CR_ASM_TASK_SIZE_H__

#define TASK_SIZE_X86_64 0x7ffffffff000
#define __NR_getpid_x86_64 39

#ifndef __ASSEMBLY__
#define TASK_SIZE ((uint64_t)TASK_SIZE_X86_64)
#endif

#endif
