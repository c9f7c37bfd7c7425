// The todo list: every key under todo/ is an item { title, done }. The list is read from the
// page's own replica and drawn again after each commit that changes it; adding and ticking items
// are writes through the store's writer, which must allow this browser's peer id.
import { type Follower, UnauthorizedError, WatchInterruptedError } from '@dagsync/browser'

export const PREFIX = 'todo/'

export interface Todo {
  readonly title: string
  readonly done: boolean
}

export interface TodoListInit {
  readonly follower: Follower
  readonly list: HTMLUListElement
  readonly message: HTMLElement
  /** The command that allows this browser to write, shown when the writer refuses it. */
  readonly allowCommand: string
}

export class TodoList {
  readonly #init: TodoListInit

  constructor(init: TodoListInit) {
    this.#init = init
  }

  /** Draws the list, then again after every commit that changes a todo, for as long as the page lives. */
  async follow(): Promise<void> {
    await this.render()
    for (;;) {
      try {
        for await (const _ of this.#init.follower.watch({ prefix: PREFIX })) await this.render()
        return
      } catch (err) {
        // The page fell behind (or a diff failed): draw the head as it is and watch on.
        if (!(err instanceof WatchInterruptedError)) throw err
        await this.render()
      }
    }
  }

  async render(): Promise<void> {
    const items: HTMLLIElement[] = []
    for await (const { key, value } of this.#init.follower.entries({ prefix: PREFIX })) {
      if (typeof key === 'string') items.push(this.#item(key, value as Partial<Todo>))
    }
    this.#init.list.replaceChildren(...items)
  }

  add(title: string): Promise<void> {
    const key = `${PREFIX}${Date.now()}-${Math.random().toString(36).slice(2, 6)}`
    return this.#write(() => this.#init.follower.assoc(key, { title, done: false }))
  }

  toggle(key: string, done: boolean): Promise<void> {
    return this.#write(() => this.#init.follower.assocIn([key, 'done'], done))
  }

  #item(key: string, todo: Partial<Todo>): HTMLLIElement {
    const li = document.createElement('li')
    li.dataset.key = key
    li.dataset.done = String(todo.done === true)
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.checked = todo.done === true
    box.addEventListener('change', () => void this.toggle(key, box.checked))
    const title = document.createElement('span')
    title.textContent = typeof todo.title === 'string' ? todo.title : key
    const label = document.createElement('label')
    label.append(box, ' ', title)
    li.append(label)
    return li
  }

  /** Runs a write through the writer; resolves once this page holds the commit (the watch draws it). */
  async #write(write: () => Promise<unknown>): Promise<void> {
    const { message } = this.#init
    message.textContent = ''
    try {
      await write()
    } catch (err) {
      message.textContent =
        err instanceof UnauthorizedError
          ? `This browser may not write to the store. On the daemon, run: ${this.#init.allowCommand}`
          : `The write failed: ${err instanceof Error ? err.message : String(err)}`
      await this.render()
    }
  }
}
