from crm.bench import main

main()
