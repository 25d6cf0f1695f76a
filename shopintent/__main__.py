from shopintent.cli import main

raise SystemExit(main())
