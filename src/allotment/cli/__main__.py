from allotment.cli.main import main

main()
