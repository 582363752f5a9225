from paperboy.cli import main

raise SystemExit(main())
