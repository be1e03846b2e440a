from deploytools.cli import main

raise SystemExit(main())
