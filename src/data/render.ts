// Conversational rows -> prompt/completion strings (docs/data-formats.md): with the model's chat template
// (@huggingface/jinja) when its tokenizer has one, else with a plain template. As in TRL, the
// completion is the part of the rendered whole conversation after the rendered prompt (the
// prompt is rendered with the generation prompt).
import { Template } from '@huggingface/jinja';
import type { Tokenizer } from '../tokenizer/types';
import type { Message } from './types';

export interface Renderer {
  readonly kind: 'chat-template' | 'plain';
  /**
   * Whether completions get the end-of-text token appended: yes for the plain template (it has
   * no end-of-turn marker), no for a chat template (it closes its own turns).
   */
  readonly appendEos: boolean;
  /** Prompt messages -> the prompt text, ending where the assistant's answer begins. */
  prompt(messages: Message[]): string;
  /** The text that follows `promptText` = prompt(prompt) when `completion` is appended. */
  completion(prompt: Message[], completion: Message[], promptText: string): string;
}

const ROLE_NAMES: Record<string, string> = { system: 'System', user: 'User', assistant: 'Assistant' };
const roleName = (r: string) => ROLE_NAMES[r] ?? r.charAt(0).toUpperCase() + r.slice(1);

/**
 * The plain template, for models without a chat template (the built-in byte model):
 *   prompt:     "System: …\nUser: …\nAssistant: "      (one "Role: content\n" per message)
 *   completion: "…"                                     (the first message's content; any
 *                                                        further message as "\nRole: content")
 */
export const plainRenderer: Renderer = {
  kind: 'plain',
  appendEos: true,
  prompt: (ms) => ms.map((m) => `${roleName(m.role)}: ${m.content}\n`).join('') + 'Assistant: ',
  completion: (_p, ms) => ms.map((m, i) => (i === 0 ? m.content : `\n${roleName(m.role)}: ${m.content}`)).join(''),
};

export class ChatTemplateRenderer implements Renderer {
  readonly kind = 'chat-template' as const;
  readonly appendEos = false;
  private template: Template;
  private specials: Record<string, string>;

  constructor(source: string, tok: Tokenizer) {
    this.template = new Template(source);
    const name = (id: number) => (id >= 0 ? tok.decode([id]) : '');
    this.specials = { bos_token: name(tok.bosTokenId), eos_token: name(tok.eosTokenId) };
  }

  prompt(messages: Message[]): string {
    return this.template.render({ ...this.specials, messages, add_generation_prompt: true });
  }

  completion(prompt: Message[], completion: Message[], promptText: string): string {
    const full = this.template.render({ ...this.specials, messages: [...prompt, ...completion], add_generation_prompt: false });
    if (!full.startsWith(promptText)) throw new Error('the chat template does not render the prompt as a prefix of the whole conversation');
    return full.slice(promptText.length);
  }
}

/** The tokenizer's chat template when it has one, else the plain template. */
export function rendererFor(tok: Tokenizer): Renderer {
  return tok.chatTemplate ? new ChatTemplateRenderer(tok.chatTemplate, tok) : plainRenderer;
}
