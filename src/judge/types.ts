// A rule-based judge scores one generated completion of a prompt in [0, 1] and says why.
// Judges are pure functions of text (no model), so a win rate is reproducible and cheap.

export interface Judgement {
  /** 1 = the preferred behaviour, 0 = not; values in between are partial credit. */
  score: number;
  reason: string;
}

/** The pair a prompt came from, for judges that compare with the set's own answers. */
export interface PairRef {
  chosen: string;
  rejected: string;
}

export interface Judge {
  name: string;
  /** One line: what a score of 1 means. */
  description: string;
  judge(prompt: string, completion: string, pair?: PairRef): Judgement;
}
