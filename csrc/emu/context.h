// A fiber's saved execution context, and the switch between two of them.
//
// On x86-64 the switch is a dozen instructions (below): push the callee-saved registers and the
// floating-point control words, store the stack pointer, load the other fiber's, pop. Everywhere else
// (or with -DMT_EMU_UCONTEXT) it is POSIX swapcontext, which also saves the signal mask with a system
// call: about 1 µs a switch, which makes a 256-thread block with 20 barriers ~10x slower.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && !defined(MT_EMU_UCONTEXT)
#define MT_EMU_ASM_SWITCH 1
// mt_emu_switch(save, load): *save = this stack's pointer; continue on the stack `load` points to.
// In a COMDAT group, so every translation unit may carry it and the linker keeps one.
extern "C" void mt_emu_switch(void** save, void* load);
asm(R"(
  .pushsection .text.mt_emu_switch,"axG",@progbits,mt_emu_switch,comdat
  .weak mt_emu_switch
  .hidden mt_emu_switch
  .type mt_emu_switch, @function
mt_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size mt_emu_switch, .-mt_emu_switch
  .popsection
)");
#else
#include <ucontext.h>
#endif

namespace emu {

class Context {
 public:
  // Prepare to run body() on [stack, stack + bytes) at the first switch to this context. body must
  // never return: it ends by switching away for good.
  void start(char* stack, size_t bytes, void (*body)()) {
#ifdef MT_EMU_ASM_SWITCH
    auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t(15));
    // The frame mt_emu_switch pops: control words, r15..rbp, then `ret` jumps to body with the stack as
    // after a call (a zero return address above it ends backtraces).
    uint64_t* sp = top - 9;
    const uint32_t mxcsr = 0x1f80;   // the default: all exceptions masked, round to nearest
    const uint16_t fpu_cw = 0x037f;  // the default x87 control word
    std::memcpy(reinterpret_cast<char*>(sp), &mxcsr, 4);
    std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpu_cw, 2);
    for (int i = 1; i <= 6; ++i) sp[i] = 0;  // r15, r14, r13, r12, rbx, rbp
    sp[7] = reinterpret_cast<uint64_t>(body);
    sp[8] = 0;
    stack_pointer_ = sp;
#else
    getcontext(&context_);
    context_.uc_stack = {stack, 0, bytes};
    context_.uc_link = nullptr;
    makecontext(&context_, body, 0);
#endif
  }

  // Save the running context into `from` and continue in `to`.
  static void swap(Context& from, Context& to) {
#ifdef MT_EMU_ASM_SWITCH
    mt_emu_switch(&from.stack_pointer_, to.stack_pointer_);
#else
    swapcontext(&from.context_, &to.context_);
#endif
  }

 private:
#ifdef MT_EMU_ASM_SWITCH
  void* stack_pointer_ = nullptr;
#else
  ucontext_t context_{};
#endif
};

}  // namespace emu
