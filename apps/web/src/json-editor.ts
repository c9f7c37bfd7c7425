// The value box of the write form as a JSON editor: every edit is checked (json-check.ts), an
// error is shown under the box with its line and column, and the write button stays disabled
// until the value is valid.
import { $ } from './format.ts'
import { checkJson, type JsonCheck } from './json-check.ts'

export class JsonEditor {
  readonly #box = $<HTMLTextAreaElement>('write-value')
  readonly #message = $('write-check')
  readonly #submit = $<HTMLButtonElement>('write-submit')
  #check: JsonCheck = checkJson('')

  constructor() {
    this.#box.addEventListener('input', () => this.#update())
    this.#update()
  }

  /** The value as last checked. */
  get check(): JsonCheck {
    return this.#check
  }

  #update(): void {
    this.#check = checkJson(this.#box.value)
    const { ok } = this.#check
    this.#submit.disabled = !ok
    this.#box.setAttribute('aria-invalid', String(!ok && this.#box.value !== ''))
    if (this.#check.ok) {
      this.#message.dataset.state = 'ok'
      this.#message.textContent = 'valid JSON'
    } else {
      const { message, line, column } = this.#check
      this.#message.dataset.state = this.#box.value === '' ? 'empty' : 'error'
      this.#message.textContent = line === undefined ? message : `line ${line}, column ${column}: ${message}`
    }
  }
}
