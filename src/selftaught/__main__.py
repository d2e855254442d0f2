from selftaught.cli import main

main()
