from django.core.management.base import BaseCommand, CommandError

from intents.prediction import NoActiveModel, classify


class Command(BaseCommand):
    help = "Classifies a message with the active model and prints the top 3 intents."

    def add_arguments(self, parser):
        parser.add_argument("text")

    def handle(self, *args, **options):
        try:
            result = classify(options["text"])
        except NoActiveModel as error:
            raise CommandError(str(error)) from None
        prediction = result.prediction
        verdict = (
            "not sure (below the abstain threshold)" if prediction.abstained else prediction.intent
        )
        self.stdout.write(f"Model v{result.version_number}: {verdict}")
        for label, probability in prediction.top:
            self.stdout.write(f"  {probability:6.1%}  {label}")
