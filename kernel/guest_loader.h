/* Loading a guest's Multiboot kernel (kernel/guest_loader.c). */
#ifndef TIDE_GUEST_LOADER_H
#define TIDE_GUEST_LOADER_H

struct guest;

/*
 * Loads g's image and initrd into its RAM, builds its Multiboot info and
 * sets its vCPU to the Multiboot entry state. -EINVAL for a bad image (with
 * a message naming the guest and the problem).
 */
int guest_load(struct guest *g);

#endif
