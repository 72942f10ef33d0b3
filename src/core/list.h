/*
 * core/list.h - an intrusive doubly-linked list with a sentinel head.
 *
 * Links live inside the owning struct, so insertion and removal never
 * allocate and removal is O(1) given the node. A node that is in no list
 * has both pointers NULL (hr_list_node_init), which makes "remove if
 * linked" cheap and double removal harmless.
 */
#ifndef HR_CORE_LIST_H
#define HR_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hr_list {
	struct hr_list *prev, *next;
} hr_list;

static inline void hr_list_init(hr_list *head)
{
	head->prev = head->next = head;
}

static inline void hr_list_node_init(hr_list *n)
{
	n->prev = n->next = NULL;
}

static inline bool hr_list_empty(const hr_list *head)
{
	return head->next == head;
}

static inline bool hr_list_linked(const hr_list *n)
{
	return n->next != NULL;
}

static inline void hr_list_remove(hr_list *n)
{
	if (!n->next)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

static inline void hr_list_push_back(hr_list *head, hr_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline hr_list *hr_list_first(const hr_list *head)
{
	return head->next == head ? NULL : head->next;
}

#endif
