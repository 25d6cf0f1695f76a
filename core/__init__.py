"""What every package shares, and nothing heavy: `nlu`, `bot`, `actions` and `recs`
import it without pulling in torch, FastAPI or rasa-sdk.

- `core.wire`: the payloads that travel between the packages (a parse result, the
  bot's messages, an action call's answer) and the intent names they carry.
- `core.paths`: where things are by default (the model, the training data) and the
  artifact's file name.
- `core.db`: the one way to open a database (URL spelling, SQLite pragmas, pools).

The redactor, shared the same way, is the `privacy` package.
"""
