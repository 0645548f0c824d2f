//! `exp=`: the explanation of a top-level `fail` (RFC 7208 §6.2), or the default.

use super::Evaluator;
use super::compiled::{self, Spec, Str};
use super::digest::Digest;
use super::frames::{Flow, Verdict};
use super::slots::Got;
use super::terms::TermStep;
use crate::dns::QueryType;
use crate::macros::{self, MacroString, Target};

/// An explanation being fetched for a top-level `fail`.
pub(super) struct Explaining {
    /// Its domain is the one whose record failed, for `%{d}`.
    pub(super) verdict: Verdict,
    /// That record's `exp=` domain-spec.
    pub(super) spec: Spec,
}
impl Evaluator {
    /// After a top-level `fail`: fetch the record's `exp=` text, or use the default.
    pub(super) fn start_explanation(&mut self, header: u32, verdict: Verdict) {
        match compiled::header(&self.ops, header).exp {
            Some(spec) => self.explaining = Some(Box::new(Explaining { verdict, spec })),
            None => {
                let explanation = self.default_explanation(verdict.domain);
                self.finish(verdict, explanation);
            }
        }
    }

    pub(super) fn step_explanation(&mut self) -> Flow {
        let Some(exp) = self.explaining.take() else {
            return Flow::Continue;
        };
        let name = match self.target(Some(exp.spec), exp.verdict.domain) {
            Ok(name) => Some(name),
            Err(TermStep::Blocked) => {
                self.explaining = Some(exp);
                return Flow::Blocked;
            }
            // Naming the explanation failed: as if there were no `exp=` (RFC 7208 §6.2).
            Err(_) => None,
        };
        let text = match name.map(|name| self.need(QueryType::Txt, name)) {
            Some(Ok(Got::Waiting(_))) => {
                self.explaining = Some(exp);
                return Flow::Blocked;
            }
            Some(Ok(Got::Ready(slot))) => match self.answer_at(slot) {
                // Exactly one TXT record, or the explanation is ignored (RFC 7208 §6.2).
                a @ Digest::Records {
                    total: 1, items: 1, ..
                } => std::str::from_utf8(self.answers.txt(a, 0))
                    .ok()
                    .map(str::to_owned),
                _ => None,
            },
            Some(Err(_)) | None => None,
        };
        let domain = exp.verdict.domain;
        let explanation = text
            .as_deref()
            .and_then(|t| MacroString::parse(t, true).ok());
        if let Some(ms) = &explanation
            && ms.uses(macros::MacroLetter::ValidatedName)
            && let Ok(false) = self.validated_names()
        {
            self.explaining = Some(exp);
            return Flow::Blocked;
        }
        let explained = explanation.map(|ms| {
            let mut out = self.explanation_buffer();
            self.expand_explanation(&ms, domain, &mut out);
            out
        });
        let explanation = explained.or_else(|| self.default_explanation(domain));
        self.finish(exp.verdict, explanation);
        Flow::Continue
    }

    pub(super) fn expand_explanation(&self, ms: &MacroString<'_>, domain: Str, out: &mut String) {
        let p = self.pick_validated(domain);
        let vars = self.vars(domain.get(&self.text), p);
        macros::expand_into(ms, &vars, Target::Explanation, out);
    }

    /// An empty string for the explanation: the previous outcome's, so that a
    /// restarted evaluator explains without allocating.
    pub(super) fn explanation_buffer(&mut self) -> String {
        let mut buffer = match self.outcome.explanation.take() {
            Some(previous) => previous,
            None => std::mem::take(&mut self.spare_explanation),
        };
        buffer.clear();
        buffer
    }

    pub(super) fn default_explanation(&mut self, domain: Str) -> Option<String> {
        self.config.default_explanation.as_ref()?;
        let mut out = self.explanation_buffer();
        let text = self
            .config
            .default_explanation
            .as_deref()
            .unwrap_or_default();
        if text.len() <= macros::MAX_EXPLANATION && !text.contains('%') {
            // Without macros the text is its own expansion, valid or not.
            out.push_str(text);
            return Some(out);
        }
        match MacroString::parse(text, true) {
            Ok(ms) => self.expand_explanation(&ms, domain, &mut out),
            Err(_) => out.push_str(text),
        }
        Some(out)
    }
}
