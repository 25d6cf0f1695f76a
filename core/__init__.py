"""What every package shares, and nothing heavy: `nlu`, `bot`, `actions` and `recs`
import it without pulling in torch, FastAPI or rasa-sdk.

- `core.wire`: the payloads that travel between the packages (a parse result, the
  bot's messages, an action call's answer) and the intent names they carry.
- `core.paths`: where things are by default (the model, the training data) and the
  artifact's file name.
- `core.db`: the one way to open a database (URL spelling, SQLite pragmas, pools).
- `core.signing`: the signature of an action call, made by the bot, checked by the
  action server.
- `core.settings`: how each package's settings read the environment (`SHOPINTENT_`
  prefix, `.env`, blank-means-unset secrets, comma lists).
- `core.config`: the value check and defaults of the training-settings dataclasses.
- `core.artifacts`: what trained artifacts share (version stamp, metadata JSON and
  the checks that open it, the staged folder renamed into place).
- `core.lazy`: package exports imported on first use (`nlu`, `recs`).
- `core.errors`: the base of the library errors (`NluError`, `ActionsError`, `RecsError`):
  a message in the library's words and the settings that fix it, which the command
  line turns into its flags.

The redactor, shared the same way, is the `privacy` package.
"""
