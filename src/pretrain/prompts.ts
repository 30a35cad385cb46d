// Prompts whose greedy completions are logged before and after pretraining: one per kind of
// document and language, in the template of the built-in preference sets.
import { qaPrompt } from './facts';

export const SAMPLE_PROMPTS: readonly string[] = [
  qaPrompt('What is 7+8?'),
  qaPrompt('Combien font 6*7 ?'),
  qaPrompt('Can you help me with my homework?'),
  qaPrompt('숙제 좀 도와줘.'),
  qaPrompt('What is the capital of France?'),
  qaPrompt('서울의 수도는 어디야?'),
  qaPrompt('‘안녕하세요, 잘 지내세요?’를 프랑스어로 번역해줘.'),
  qaPrompt('뉴턴의 제1법칙을 쉽게 설명해줘.'),
  qaPrompt('Quelle est la capitale du Japon ?'),
];
